"""Benchmark: model-steps per second, compile time and peak memory of the fused trainer.

    python -m sweep.bench                 # the standard table (the same as python -m benchmarks.bench)
    python -m sweep.bench --steps 5000 --cases 20x5x100 3x2x40x40

It first prints where it ran (benchmarks/machine.py: CPU model, cores, the JAX device and the machine's
measured 2048 x 2048 float32 matmul peak) and gives each case's model-steps/s also per CPU-second (steadier
than wall time on a shared machine) and as a fraction of that peak (`% peak`: the five products of a step,
benchmarks.machine.step_flops). `MB/model` is the memory per model on the device JAX found: the device's peak
bytes in use where it reports them (a GPU), else the process's peak RSS above what it held before the models.

A case NxMxG is G seeds of one model (n=N, m=M, sparsity 0.9): nothing shares a data stream. A suffix
:KIND sets model.kind (e.g. 10x5x352:privileged; :abs also sets data.distribution=signed_uniform),
:correlatedK / :anticorrelatedK the data law in sets of K.
A case NxMxDxR is a phase-diagram grid: D densities (1 -> 0.01) x R relative importances of the
extra feature (0.1 -> 10), one seed, as in conf/experiment/phase_n*.yaml: the R models of a
density share their batches, and the D densities share the seed's random numbers (sweep/train.py Draws).
`20x5x100x1` is the shape of benchmarks/peer.py's grid: 100 densities of one seed, nothing else shared.
Each case runs in its own process so that its peak RSS is its own.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import sweep  # noqa: F401 (first: sets the host devices and JAX's compilation cache before JAX starts, as in a run)

DEFAULT_CASES = ["20x5x1", "20x5x100", "20x5x100x1", "20x5x400", "2x1x1600", "2x1x40x40", "3x2x1600", "3x2x40x40"]


def case_config(case: str, steps: int, batch_size: int, rng: str) -> dict:
    from sweep.config import geomspace

    case, *options = case.split(":")
    n, m, *grid = map(int, case.split("x"))
    base = {"model": {"n_features": n, "n_hidden": m}, "steps": steps, "batch_size": batch_size, "data": {"rng": rng}}
    for option in options:  # :privileged, :linear, :abs (model.kind); :correlated2, :anticorrelated2 (data.correlation, set size)
        law = option.rstrip("0123456789")
        if law in ("correlated", "anticorrelated"):
            base["data"].update(correlation=law, set_size=int(option[len(law):] or 2))
        else:
            base["model"]["kind"] = option
            if option == "abs":  # |x| needs signed features: the paper's U[-1, 1]
                base["data"]["distribution"] = "signed_uniform"
    if len(grid) == 1:
        return {**base, "seed": list(range(grid[0])), "sparsity": 0.9}
    densities, relatives = grid
    return {**base, "seed": 0, "density": geomspace(1.0, 0.01, densities),
            "importance": {"kind": "extra", "relative": geomspace(0.1, 10.0, relatives)}}


def measure(case: str, steps: int, batch_size: int, rng: str) -> dict:
    import jax
    import jax.numpy as jnp

    from sweep.config import build
    from sweep.grid import build_grid
    from sweep.train import Trainer, compile_group, place, stacked_hyper

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    cfg = build(case_config(case, steps, batch_size, rng))
    init, run_steps, _ = compile_group(Trainer(cfg))
    grid = build_grid(cfg)
    n_models = len(grid)
    hyper = place(stacked_hyper(grid, devices=jax.device_count()), jax.devices())  # as train_grid does
    state = init(hyper)
    step_ids = jnp.arange(steps)
    start = time.perf_counter()
    compiled = run_steps.lower(state, hyper, step_ids).compile()
    compile_seconds = time.perf_counter() - start
    jax.block_until_ready(compiled(state, hyper, step_ids))  # warm-up run
    start, cpu = time.perf_counter(), time.process_time()
    jax.block_until_ready(compiled(state, hyper, step_ids))
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    stats = jax.devices()[0].memory_stats() or {}
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    model_mb = (sum((d.memory_stats() or {}).get("peak_bytes_in_use", 0) for d in jax.devices()) / 2**20
                if "peak_bytes_in_use" in stats else peak_mb - before) / n_models
    return {
        "case": case, "n_features": cfg.model.n_features, "n_hidden": cfg.model.n_hidden, "models": n_models,
        "block": grid.block_size() if hasattr(grid, "block_size") else 1, "steps": steps, "rng": rng,
        "devices": jax.device_count(),
        "compile_s": compile_seconds, "model_steps_per_s": n_models * steps / seconds,
        "model_steps_per_cpu_s": n_models * steps / cpu, "peak_rss_mb": peak_mb, "mb_per_model": model_mb,
    }


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(prog="python -m sweep.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="+", default=DEFAULT_CASES,
                        help="NxMxG (G seeds) or NxMxDxR (phase grid: D densities x R relative importances)")
    parser.add_argument("--steps", type=int, default=1000, help="steps per timed scan")
    parser.add_argument("--batch-size", type=int, default=1024)
    parser.add_argument("--rng", default="fast", choices=["fast", "threefry"])
    parser.add_argument("--repeats", type=int, default=1, help="processes per case (the row gives their median)")
    parser.add_argument("--baseline", type=Path, help="another checkout (e.g. the code before a change): each case "
                        "also runs there, alternating with this one, as a row of its own")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.one, args.steps, args.batch_size, args.rng)))
        return []
    from benchmarks import machine

    peak = machine.matmul_peak()
    print(machine.describe(peak))
    header = (f"{'case':>20} {'code':>8} {'n':>3} {'m':>3} {'models':>6} {'shared':>6} {'steps':>6} {'devices':>7} "
              f"{'compile s':>9} {'model-steps/s':>14} {'per CPU-s':>10} {'% peak':>6} {'peak RSS MB':>11} {'MB/model':>8}")
    print(header + ("  (each process)" if args.repeats > 1 else ""))
    print("-" * len(header))
    codes = {"this": None} | ({"baseline": args.baseline} if args.baseline else {})
    rows = []
    for case in args.cases:
        runs = {code: [] for code in codes}
        for _ in range(args.repeats):
            for code, cwd in codes.items():
                runs[code].append(run_case(case, args.steps, args.batch_size, args.rng, cwd))
        for code, found in runs.items():
            rates = [r["model_steps_per_s"] for r in found]
            r = {**found[0], "code": code, "model_steps_per_s": statistics.median(rates), "each": rates,
                 "model_steps_per_cpu_s": statistics.median(r.get("model_steps_per_cpu_s", float("nan")) for r in found)}
            r["fraction_of_peak"] = machine.fraction_of_peak(r["model_steps_per_s"], r["n_features"], r["n_hidden"],
                                                             args.batch_size, peak)
            rows.append(r)
            print(f"{case:>20} {code:>8} {r['n_features']:>3} {r['n_hidden']:>3} {r['models']:>6} {r['block']:>6} "
                  f"{r['steps']:>6} {r['devices']:>7} {r['compile_s']:>9.2f} {r['model_steps_per_s']:>14,.0f} "
                  f"{r['model_steps_per_cpu_s']:>10,.0f} {100 * r['fraction_of_peak']:>5.1f}% {r['peak_rss_mb']:>11,.0f} "
                  f"{r.get('mb_per_model', float('nan')):>8.3f}" + (f"  ({', '.join(f'{v:,.0f}' for v in rates)})"
                                                                    if args.repeats > 1 else ""), flush=True)
    return rows


def run_case(case: str, steps: int, batch_size: int, rng: str = "fast", cwd: Path | None = None) -> dict:
    """`measure` in a process of its own (so that its peak RSS is its own), in the checkout `cwd` (default: this one)."""
    out = subprocess.run([sys.executable, "-m", "benchmarks.bench", "--one", case, "--steps", str(steps),
                          "--batch-size", str(batch_size), "--rng", rng], capture_output=True, text=True, check=True,
                         cwd=cwd)
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
