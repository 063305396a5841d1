"""Benchmark: a 1,600-model Hydra multirun, fused sweeper vs. Hydra's basic sweeper (one job per point).

    python -m benchmarks.multirun                  # the table in docs/multirun.md (a few minutes)
    python -m benchmarks.multirun --steps 10000    # the paper's step count
    python -m benchmarks.multirun --chunk-scan     # models per chunk vs. throughput (CPU cache)

The grid is the paper's phase diagram: n=2, m=1, importance.kind=extra, 40 densities x 40 relative
importances. Both sweeps are the same command line apart from `hydra/sweeper=basic`. The one-job-
per-point baseline is timed on two samples of the grid (--sample-points, default 4 and 20 points)
and extrapolated linearly to 1,600 jobs (startup + 1,600 x the marginal cost of a job); its rows are
marked "extrapolated". Each multirun runs in its own process, which counts every XLA compilation
(jax.monitoring) and, separately, compilations of the training program (`run_steps`). The fused sweep
also runs with the joblib launcher, one worker per CPU core. The models the baseline trained are
compared with the same models of the fused run.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import runpy
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from sweep.config import geomspace

N_DENSITY = N_RELATIVE = 40
COMMON = ["model.n_features=2", "model.n_hidden=1", "importance.kind=extra", "sparsity=null", "seed=0",
          "exec.plots=false", "exec.progress=false"]


DENSITIES = [f"{v:.6g}" for v in geomspace(1.0, 0.01, N_DENSITY)]  # the phase_n2 preset's grid
RELATIVES = [f"{v:.6g}" for v in geomspace(0.1, 10.0, N_RELATIVE)]


def sweep_args(densities, relatives) -> list[str]:
    return [f"density={','.join(densities)}", f"importance.relative={','.join(relatives)}"]


def sample(n_points: int) -> tuple[list[str], list[str]]:
    """About sqrt(n) densities x n/that relatives, spread over the grid."""
    rows = max(1, int(np.sqrt(n_points)))
    cols = n_points // rows
    return DENSITIES[:: N_DENSITY // rows][:rows], RELATIVES[:: N_RELATIVE // cols][:cols]


def child(out_file: str, args: list[str]) -> None:
    """Run `python -m sweep.run ARGS` in this process, counting XLA compilations."""
    from jax import monitoring

    counts = {"compiles": 0, "training_programs": 0}

    def on_event(event, duration, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration":
            counts["compiles"] += 1
            counts["training_programs"] += "run_steps" in str(kwargs.get("fun_name", ""))

    monitoring.register_event_duration_secs_listener(on_event)
    sys.argv = ["sweep.run", *args]
    try:
        runpy.run_module("sweep.run", run_name="__main__", alter_sys=True)  # as `python -m sweep.run`
    finally:
        Path(out_file).write_text(json.dumps(counts))


def multirun(args: list[str], sweep_dir: Path) -> dict:
    """Wall time (process start to exit) and compile counts of one multirun."""
    counts = sweep_dir.with_suffix(".json")
    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "benchmarks.multirun", "--child", str(counts), "--", "-m", *args,
                          f"hydra.sweep.dir={sweep_dir}"], capture_output=True, text=True)
    if out.returncode:
        sys.exit(f"multirun failed: {' '.join(args)[:200]}...\n{out.stderr[-3000:]}")
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_seconds = after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime
    return {"seconds": seconds, "cpu_seconds": cpu_seconds, **json.loads(counts.read_text()),
            "jobs": sum(1 for p in sweep_dir.iterdir() if (p / "summary.json").exists())}


def max_difference(baseline_dir: Path, fused_dir: Path) -> float:
    """Largest |W| difference between the baseline's models and the same models in the fused run."""
    import analysis
    from sweep.results import load_weights

    def weights(path):
        table = analysis.load(path).drop_duplicates(["run", "model_id"])
        loaded = {run: load_weights(path / run)["W"] for run in table["run"].unique()}
        return {(round(r.density, 9), round(r.importance_relative, 9)): loaded[r.run][r.model_id]
                for r in table.itertuples()}

    fused, baseline = weights(fused_dir), weights(baseline_dir)
    return max(float(np.abs(W - fused[key]).max()) for key, W in baseline.items())


def compare(steps: int, batch_size: int, sample_points: list[int], workdir: Path) -> None:
    common = [*COMMON, f"steps={steps}", f"batch_size={batch_size}", f"exec.log_every={min(steps, 500)}"]
    fused = multirun([*sweep_args(DENSITIES, RELATIVES), *common], workdir / "fused")
    cores = os.cpu_count() or 1
    parallel = multirun([*sweep_args(DENSITIES, RELATIVES), *common, "hydra/launcher=joblib",
                         f"hydra.launcher.n_jobs={cores}"], workdir / "fused_joblib")
    plan = json.loads((workdir / "fused" / "sweep.json").read_text())
    samples = []
    for n in sample_points:
        densities, relatives = sample(n)
        run = multirun([*sweep_args(densities, relatives), *common, "hydra/sweeper=basic"], workdir / f"basic{n}")
        samples.append((len(densities) * len(relatives), run))
    (n1, small), (n2, large) = samples[0], samples[-1]
    total = N_DENSITY * N_RELATIVE

    def extrapolate(key):
        per_job = (large[key] - small[key]) / (n2 - n1)
        return small[key] + per_job * (total - n1), per_job

    basic = {key: extrapolate(key)[0] for key in ("seconds", "cpu_seconds", "compiles", "training_programs")}
    per_job = extrapolate("seconds")[1]
    diff = max_difference(workdir / f"basic{n2}", workdir / "fused")

    def row(label, jobs, programs, compiles, wall, cpu, ratio=True):
        speed_up = f"{basic['seconds'] / wall:.0f}x" if ratio else ""
        print(f"{label:44} {jobs:>6} {programs:>9} {compiles:>9} {wall:>8.1f} {cpu:>8} {speed_up:>9}")

    print(f"{total:,}-model multirun: n=2, m=1, importance.kind=extra, {N_DENSITY} densities x {N_RELATIVE} relative "
          f"importances; {steps:,} steps, batch {batch_size}; {cores} CPU cores")
    header = f"{'':44} {'jobs':>6} {'programs':>9} {'compiles':>9} {'wall s':>8} {'CPU s':>8} {'speed-up':>9}"
    print(header + "\n" + "-" * len(header))
    row("fused sweeper (measured)", fused["jobs"], fused["training_programs"], fused["compiles"], fused["seconds"],
        f"{fused['cpu_seconds']:.1f}")
    row(f"fused sweeper, joblib n_jobs={cores} (measured)", parallel["jobs"], parallel["jobs"], "-",
        parallel["seconds"], "-")
    for n, run in samples:
        row(f"basic sweeper, {n} points (measured)", run["jobs"], run["training_programs"], run["compiles"],
            run["seconds"], f"{run['cpu_seconds']:.1f}", ratio=False)
    row(f"basic sweeper, {total:,} points (EXTRAPOLATED)", total, f"{basic['training_programs']:.0f}",
        f"{basic['compiles']:.0f}", basic["seconds"], f"{basic['cpu_seconds']:.0f}")
    print(f"\nprograms: compiled training programs; compiles: every XLA compilation (jax.monitoring), not counted "
          f"inside joblib's workers (there: one program per job). CPU-time speed-up (robust to other load): "
          f"{basic['cpu_seconds'] / fused['cpu_seconds']:.0f}x. Basic sweeper: {per_job:.2f} s per extra job (from the "
          f"{n1}- and {n2}-point samples). Fused plan: {plan['groups']} group(s), {plan['jobs']} job(s) of <= "
          f"{max(g['models_per_chunk'] for g in plan['plan'])} models. Max |W_basic - W_fused| over the {n2} "
          f"models both trained: {diff:.1e}.")


def chunk_scan(n_models: int, steps: int, batch_size: int, sizes: list[int]) -> None:
    """Train the same n_models as chunks of each size (one compile per chunk, as one job per chunk does)."""
    import jax

    from sweep.config import Config, ExecConfig, ImportanceConfig, ModelConfig
    from sweep.grid import build_grid
    from sweep.memory import bytes_per_model
    from sweep.train import train_grid

    cfg = Config(model=ModelConfig(n_features=5, n_hidden=2), importance=ImportanceConfig(decay=0.9),
                 sparsity=[float(s) for s in np.linspace(0, 0.99, n_models)], batch_size=batch_size, steps=steps,
                 exec=ExecConfig(log_every=steps, progress=False, checkpoint_every=0))
    grid = build_grid(cfg)
    per_model = bytes_per_model(cfg)
    print(f"{n_models} models, n=5, m=2, batch {batch_size}, {steps} steps, {jax.device_count()} device(s)")
    print(f"{'models/chunk':>12} {'chunks':>6} {'stack MB':>9} {'wall s':>8} {'model-steps/s':>14}")
    for size in sizes:
        n_chunks = -(-n_models // size)
        start = time.perf_counter()
        for chunk in range(n_chunks):
            train_grid(cfg, grid.chunk(chunk, n_chunks))
        seconds = time.perf_counter() - start
        print(f"{size:>12} {n_chunks:>6} {size * per_model / 2**20:>9.1f} {seconds:>8.1f} "
              f"{n_models * steps / seconds:>14,.0f}", flush=True)


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--child":
        return child(sys.argv[2], sys.argv[4:])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--sample-points", type=int, nargs=2, default=[4, 20],
                        help="sizes of the two baseline samples the 1,600-job time is extrapolated from")
    parser.add_argument("--workdir", help="keep the multirun dirs here (default: a temporary dir)")
    parser.add_argument("--chunk-scan", action="store_true", help="throughput vs. models per chunk instead")
    parser.add_argument("--scan-models", type=int, default=2048)
    parser.add_argument("--scan-sizes", type=int, nargs="+", default=[128, 256, 512, 1024, 2048])
    args = parser.parse_args()
    if args.chunk_scan:
        return chunk_scan(args.scan_models, args.steps, args.batch_size, args.scan_sizes)
    if args.workdir:
        Path(args.workdir).mkdir(parents=True, exist_ok=True)
        return compare(args.steps, args.batch_size, args.sample_points, Path(args.workdir))
    with tempfile.TemporaryDirectory() as workdir:
        compare(args.steps, args.batch_size, args.sample_points, Path(workdir))


if __name__ == "__main__":
    main()
