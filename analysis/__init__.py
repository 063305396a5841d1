"""Analysis of saved sweeps: load, aggregate seeds, classify phases, compare with theory, plot.

Everything here reads what `python -m sweep.run` saved (tables, weights, loss history); nothing
retrains. A *run dir* holds one run (summary.json marks it complete); a multirun dir holds
several, possibly nested. `load(path)` merges every complete run at or under `path`.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from sweep import results


class NoRunsError(FileNotFoundError):
    """No complete run (a directory with summary.json) at or under the given path."""


def find_runs(path) -> list[Path]:
    """Every complete run dir at or under `path`, sorted; raises NoRunsError if there is none."""
    path = Path(path)
    if not path.is_dir():
        raise NoRunsError(f"{path} is not a directory")
    runs = sorted(summary.parent for summary in path.rglob(results.SUMMARY) if (summary.parent / results.TABLE).exists())
    if not runs:
        raise NoRunsError(f"no complete run ({results.SUMMARY} beside {results.TABLE}) at or under {path}")
    return runs


def _run_name(run_dir: Path, root: Path) -> str:
    return run_dir.relative_to(root).as_posix() if run_dir != root else "."


def _merged(path, read) -> pd.DataFrame:
    """`read(run_dir)` of every complete run at or under `path`, concatenated, with a `run` column."""
    root = Path(path)
    tables = []
    for run_dir in find_runs(root):
        table = read(run_dir)
        table.insert(0, "run", _run_name(run_dir, root))
        tables.append(table)
    return pd.concat(tables, ignore_index=True) if len(tables) > 1 else tables[0]


def load(path) -> pd.DataFrame:
    """One tidy table (model x feature rows) of every complete run at or under `path`.

    Adds a `run` column: the run dir relative to `path` ("." for `path` itself). Models are
    identified by (run, model_id).
    """
    return _merged(path, results.load_run)


def load_history(path) -> pd.DataFrame:
    """Loss history (run, model_id, step, loss) of every complete run at or under `path`."""
    return _merged(path, results.load_history)


def load_weights(path) -> dict[str, dict]:
    """{run: {"W": (G, m, n), "b": (G, n), "model_id": (G,)}} for every complete run at or under `path`."""
    root = Path(path)
    return {_run_name(run_dir, root): results.load_weights(run_dir) for run_dir in find_runs(root)}


def model_weights(weights: dict, run: str, model_id: int):
    """(W (m, n), b (n,)) of one model from `load_weights`' result."""
    w = weights[run]
    index = np.flatnonzero(w["model_id"] == model_id)
    if len(index) != 1:
        raise KeyError(f"model_id {model_id} not found in run {run!r}")
    return w["W"][index[0]], w["b"][index[0]]
