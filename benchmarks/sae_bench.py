"""SAEs per second: `python -m sweep.sae` (one vmapped program) against plain PyTorch, one SAE at a time, whole
processes side by side, alternating.

    python -m benchmarks.sae_bench --torch-python ~/torch-venv/bin/python [--repeats 2] [--steps 2000]

Both train the same SAEs: 5 synthetic sources (d=5 dims, G=20 directions, 2 features active on average) x 5 L1
coefficients x 2 SAE seeds = 50 L1 SAEs of 40 latents, batch 1024, Adam lr 1e-3, unit-norm decoder columns
(benchmarks/sae_peer.py is the peer). The project's time includes starting Python, importing JAX, compiling and
scoring; each run writes into a fresh temp dir (nothing reused).
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PEER = Path(__file__).resolve().parent / "sae_peer.py"
D, G, LATENTS, SOURCES, COEFFS, SEEDS = 5, 20, 40, 5, "[0.001,0.003,0.009,0.027,0.081]", "[0,1]"


def project_command(steps: int, out: Path) -> list[str]:
    return [sys.executable, "-m", "sweep.sae", f"synthetic.d={D}", f"synthetic.n_features={G}",
            "synthetic.mean_active=2", "synthetic.decay=0.9", f"synthetic.seed=[{','.join(map(str, range(SOURCES)))}]",
            f"sae.dict_size={LATENTS}", f"sae.l1={COEFFS}", f"sae.seed={SEEDS}", f"sae.steps={steps}",
            "sae.progress=false", f"out={out}"]


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sae_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--torch-python", required=True, help="a Python with torch installed")
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--torch-threads", type=int, default=1, help="torch.set_num_threads (default 1: 2 threads on "
                        "the shared 2-core machine spent most of their time waiting, docs/sae.md)")
    args = parser.parse_args(argv)
    n_saes = SOURCES * 5 * 2
    times: dict[str, list[float]] = {"project": [], "torch": []}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            peer = [args.torch_python, "-P", str(PEER), *map(str, (D, G, LATENTS, n_saes, args.steps, args.torch_threads))]
            times["torch"].append(timed(peer))
            times["project"].append(timed(project_command(args.steps, Path(tmp) / f"run{repeat}")))
            print(f"repeat {repeat}: torch {times['torch'][-1]:.1f} s, project {times['project'][-1]:.1f} s", flush=True)
    project, torch = statistics.median(times["project"]), statistics.median(times["torch"])
    print(f"\n{n_saes} SAEs (d={D}, L={LATENTS}) x {args.steps} steps, batch 1024; median of {args.repeats} whole "
          f"processes:\n  project  {project:6.1f} s  {n_saes / project:6.2f} SAEs/s\n  torch    {torch:6.1f} s  "
          f"{n_saes / torch:6.2f} SAEs/s (one at a time, {args.torch_threads} thread(s))\n  ratio    {torch / project:.1f}x")


if __name__ == "__main__":
    main()
