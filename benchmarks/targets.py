"""Every target of issue 25 side by side, in one sitting: `python -m benchmarks.targets [--baseline DIR] [--repeats 3]`.

1. where it runs: CPU model, cores, the JAX device, the measured 2048 x 2048 float32 matmul peak, the load average;
2. in process (`python -m sweep.bench`): n=20, m=5 with 100 seeds (20x5x100) and with 100 densities of one seed
   (20x5x100x1, the peer's grid), model-steps/s and % of that peak (target >= 25%), and the phase-grid cases
   (2x1x1600, 3x2x9x40, 10x5x352:privileged: no slowdown against the baseline);
3. whole processes (`python -m benchmarks.peer`): the project against torch_peer.py batched (target >= 10x) and
   single (>= 30x), 100 models n=20 m=5 x 3,000 steps, alternating.

`--baseline DIR` (a checkout of the code before, e.g. `git worktree add /tmp/base <commit>`) runs its bench cases and
its project run too, alternating with this checkout's. Give a Python with torch (`--torch-python`) unless this one has
it. Prints the load average at the start and at the end: take numbers from a quiet machine.
"""
from __future__ import annotations

import argparse
import importlib.util
import sys

from benchmarks import bench, machine, peer

CASES = ["20x5x100", "20x5x100x1", "2x1x1600", "3x2x9x40", "10x5x352:privileged"]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.targets", description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="another checkout to compare with, alternating")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=1000, help="steps per timed scan in process")
    parser.add_argument("--peer-steps", type=int, default=3000)
    parser.add_argument("--torch-python", default=sys.executable if importlib.util.find_spec("torch") else None)
    args = parser.parse_args(argv)
    baseline = ["--baseline", args.baseline] if args.baseline else []
    print("== in process (python -m sweep.bench)", flush=True)
    bench.main(["--cases", *CASES, "--steps", str(args.steps), "--repeats", str(args.repeats), *baseline])
    print("\n== whole process (python -m benchmarks.peer)", flush=True)
    torch = ["--torch-python", args.torch_python] if args.torch_python else []
    peer.main([*torch, "--modes", "batched,single", "--repeats", str(args.repeats), "--steps", str(args.peer_steps),
               *baseline])
    print(f"\nat the end: {machine.load()}")


if __name__ == "__main__":
    main()
