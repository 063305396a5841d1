"""Figures of a run or multirun dir: `python -m analysis.plot DIR` (also run after every sweep.run).

The figures themselves live in analysis/figures/ (`plot_run`); this CLI draws every one that applies into
DIR/figures/ as PNG and SVG and prints their paths. A bad option or a dir without a complete run: one line, exit 2.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys

from analysis import NoRunsError
from analysis.config import SEED_RULES, AnalysisConfig, PhaseConfig
from analysis.figures import plot_run

__all__ = ["plot_run", "main"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.plot", description=__doc__.splitlines()[0])
    parser.add_argument("dir", help="a run dir or a multirun dir (runs found recursively)")
    parser.add_argument("--rule", choices=SEED_RULES, default=AnalysisConfig.rule, help="seed aggregation (default %(default)s)")
    parser.add_argument("--norm", type=float, default=PhaseConfig.norm, help="||W_extra|| above this: represented")
    parser.add_argument("--superposition", type=float, default=PhaseConfig.superposition,
                        help="superposition of the extra feature above this: superposition phase")
    args = parser.parse_args(argv)
    try:
        config = AnalysisConfig(phase=dataclasses.replace(PhaseConfig(), norm=args.norm, superposition=args.superposition),
                                rule=args.rule)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        paths = plot_run(args.dir, config)
    except NoRunsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for path in paths:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
