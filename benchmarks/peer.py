"""The project against the peers' PyTorch way on the same grid, whole processes, side by side.

    python -m benchmarks.peer [--torch-python ~/torch-venv/bin/python] [--repeats 3] [--steps 3000]

Trains G models (n=20, m=5, importance 0.7^i, G sparsities evenly spread over [0, 0.99], U[0,1]
data, batch 1024, AdamW lr 1e-3 wd 0.01) with `python -m sweep.run` and with
../shared/bench/torch_peer.py (`batched`: the Anthropic notebook's instance axis; `single`: one
model after another, the seed blog's way), alternating the runs, each in its own process, and prints
the median wall time of each and the ratio. torch is not a project dependency: give a Python that
has it (default: this Python, when it has torch). The project's runs write into a fresh temp dir
each time (nothing reused); its compilation cache (docs/speed.md) is warm after the first run, as
it is for a user's repeated sweeps. It first prints where it ran (benchmarks/machine.py: CPU model,
cores, the measured 2048 x 2048 float32 matmul peak) and gives each implementation's whole-process
model-steps/s as a fraction of that peak.
"""
from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# ../shared/bench beside the checkout (a worktree one level deeper finds it one level up)
PEER = next((p for p in (Path(__file__).resolve().parents[i] / "shared" / "bench" / "torch_peer.py" for i in (2, 3))
             if p.exists()), Path(__file__).resolve().parents[2] / "shared" / "bench" / "torch_peer.py")


def project_command(n: int, m: int, models: int, steps: int, out: Path) -> list[str]:
    sparsities = ",".join(f"{0.99 * k / (models - 1):.6g}" for k in range(models))
    return [sys.executable, "-m", "sweep.run", f"model.n_features={n}", f"model.n_hidden={m}", "importance.decay=0.7",
            f"sparsity=[{sparsities}]", f"steps={steps}", "exec.plots=false", "exec.progress=false",
            f"hydra.run.dir={out}"]


def timed(command: list[str], cwd: Path | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, cwd=cwd)
    return time.perf_counter() - start


def main(argv=None) -> dict[str, list[float]]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peer", description=__doc__.splitlines()[0])
    parser.add_argument("--torch-python", default=sys.executable if importlib.util.find_spec("torch") else None,
                        help="a Python with torch installed (default: this one, if it has torch)")
    parser.add_argument("--peer", type=Path, default=PEER, help="torch_peer.py (default %(default)s)")
    parser.add_argument("--models", type=int, default=100)
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--modes", default="batched", help="comma list of torch_peer modes: batched, single")
    parser.add_argument("--baseline", type=Path, help="another checkout (e.g. the code before a change): its project "
                        "runs too, alternating, as a row of its own")
    args = parser.parse_args(argv)
    if args.torch_python is None:
        parser.error("--torch-python: this Python has no torch; give one that has (pip install torch)")
    from benchmarks import machine

    peak = machine.matmul_peak()
    print(machine.describe(peak), flush=True)
    n, m = 20, 5
    times: dict[str, list[float]] = {"project": []}
    modes = args.modes.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats):
            for mode in modes:
                peer = [args.torch_python, str(args.peer), mode, str(n), str(m), str(args.models), str(args.steps)]
                times.setdefault(f"torch {mode}", []).append(timed(peer))
                print(f"repeat {repeat}: torch {mode} {times[f'torch {mode}'][-1]:.1f} s", flush=True)
            times["project"].append(timed(project_command(n, m, args.models, args.steps, Path(tmp) / f"run{repeat}")))
            print(f"repeat {repeat}: project {times['project'][-1]:.1f} s", flush=True)
            if args.baseline:
                out = Path(tmp) / f"baseline{repeat}"
                times.setdefault("project baseline", []).append(timed(project_command(n, m, args.models, args.steps, out),
                                                                      cwd=args.baseline))
                print(f"repeat {repeat}: project baseline {times['project baseline'][-1]:.1f} s", flush=True)
    project = statistics.median(times["project"])
    print(f"\n{args.models} models (n={n}, m={m}) x {args.steps} steps, batch 1024; median of {args.repeats} "
          "whole-process runs, alternating\n")
    print("| implementation | wall s (each run) | median wall s | project's speed-up | model-steps/s (whole process) | % peak |")
    print("|---|---|---|---|---|---|")
    for name, values in times.items():
        median = statistics.median(values)
        each = ", ".join(f"{v:.1f}" for v in values)
        rate = args.models * args.steps / median
        print(f"| {name} | {each} | {median:.1f} | {median / project:.1f}x | {rate:,.0f} | "
              f"{100 * machine.fraction_of_peak(rate, n, m, 1024, peak):.1f}% |")
    return times


if __name__ == "__main__":
    main()
