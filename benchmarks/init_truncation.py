"""Does truncating the Xavier-normal initialisation matter? Train the same n=3, m=2 phase grid twice.

    python -m benchmarks.init_truncation [--out DIR] [--steps 10000]

The engine initialises W with JAX's (and Flax's) xavier_normal (a normal truncated at 2 std, rescaled to std
sqrt(2/(m+n))); PyTorch's xavier_normal_ is untruncated. The second run swaps the initializer for the
untruncated normal with the same std (same seeds, same batches) and the table compares the phase
agreement with the optimal theory and how many seeds reach the optimum (docs/science.md).
"""
from __future__ import annotations

import argparse
from pathlib import Path

import jax
from omegaconf import OmegaConf

import analysis
from analysis.phase import agreement, compare
from sweep import kinds
from sweep.config import build
from sweep.run import run

UNTRUNCATED = jax.nn.initializers.variance_scaling(1.0, "fan_avg", "normal")  # stands in for sweep.kinds.XAVIER


def train(out: Path, steps: int, untruncated: bool):
    cfg = build({
        "exec": {"progress": False, "plots": False}, "model": {"n_features": 3, "n_hidden": 2},
        "importance": {"kind": "extra", "relative": "${geomspace:0.1,10,12}"}, "sparsity": None,
        "density": "${geomspace:1,0.01,12}", "seed": list(range(10)), "steps": steps})
    original = kinds.XAVIER
    kinds.XAVIER = UNTRUNCATED if untruncated else original
    try:
        run(cfg, out, OmegaConf.to_yaml(cfg))
    finally:
        kinds.XAVIER = original
    cells = compare(analysis.load(out))
    return (agreement(cells), agreement(cells, "optimal", "majority"), cells["frac_at_optimum"].mean(),
            (cells["frac_at_optimum"] == 0).mean())


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.init_truncation", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("outputs/bench/init_truncation"))
    parser.add_argument("--steps", type=int, default=10_000)
    args = parser.parse_args(argv)
    print("| init | best seed agrees | majority agrees | seeds at the optimum (mean) | cells with none |")
    print("|---|---|---|---|---|")
    for name, untruncated in (("truncated (JAX/Flax, the engine's)", False), ("untruncated (PyTorch's)", True)):
        best, majority, at_optimum, none = train(args.out / name.split()[0], args.steps, untruncated)
        print(f"| {name} | {best:.1%} | {majority:.1%} | {at_optimum:.1%} | {none:.1%} |", flush=True)


if __name__ == "__main__":
    main()
