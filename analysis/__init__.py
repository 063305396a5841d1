"""Analysis of saved sweeps: load, aggregate seeds, classify phases, compare with theory, plot.

Everything here reads what `python -m sweep.run` saved (tables, weights, loss history); nothing
retrains. A *run dir* holds one run (summary.json marks it complete); a multirun dir holds
several, possibly nested. `load(path)` merges every complete run at or under `path`; a run whose
files cannot be read is reported (path and reason) and left out, or stops the load with `strict=True`.

The package is in wings whose imports point one way (tests/system/test_layout.py): compute at this level (load, run.py,
aggregate, classify, phase, both theories, geometry, neurons), figures/ (draws what compute made), report/ (the HTML
page) and experiments/ (one module per experiment); the CLIs (plot.py, report/__main__.py, paper.py) and the Hydra
callback (callbacks.py) sit above them.
"""
from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from sweep import results


class NoRunsError(FileNotFoundError):
    """No complete run (a directory with summary.json) at or under the given path."""


class UnreadableRunError(OSError):
    """A complete run whose files cannot be read (strict loading, or no readable run at all)."""


class UnreadableRunWarning(UserWarning):
    """Runs left out of a load because their files cannot be read."""


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


def _read_each(path, read, strict: bool) -> dict[str, object]:
    """{run name: read(run_dir)} of every complete run at or under `path`. A run that cannot be read
    raises UnreadableRunError with `strict`, else is left out with an UnreadableRunWarning naming it
    and the reason; if no run can be read, UnreadableRunError."""
    root = Path(path)
    out, bad = {}, []
    for run_dir in find_runs(root):
        try:
            out[_run_name(run_dir, root)] = read(run_dir)
        except Exception as error:  # a truncated or corrupt file: report it, whatever the reader raised
            reason = f"{run_dir}: {type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
            if strict:
                raise UnreadableRunError(f"cannot read the run {reason}") from error
            bad.append(reason)
    if bad and not out:
        raise UnreadableRunError(f"no run under {root} can be read: {'; '.join(bad)}")
    if bad:
        warnings.warn(f"left out {len(bad)} unreadable run(s) (strict=True stops instead): {'; '.join(bad)}",
                      UnreadableRunWarning, stacklevel=3)
    return out


def _merged(path, read, strict: bool) -> pd.DataFrame:
    """`read(run_dir)` of every readable complete run at or under `path`, concatenated, with a `run` column."""
    tables = []
    for run, table in _read_each(path, read, strict).items():
        table.insert(0, "run", run)
        tables.append(table)
    return pd.concat(tables, ignore_index=True) if len(tables) > 1 else tables[0]


def load(path, strict: bool = False) -> pd.DataFrame:
    """One tidy table (model x feature rows) of every complete run at or under `path`.

    Adds a `run` column: the run dir relative to `path` ("." for `path` itself). Models are
    identified by (run, model_id). A run whose table cannot be read is left out with a warning
    naming its path and the reason, or raises UnreadableRunError with `strict=True`.
    """
    return _merged(path, results.load_run, strict)


def load_history(path, strict: bool = False) -> pd.DataFrame:
    """Loss history (run, model_id, step, loss) of every complete run at or under `path`."""
    return _merged(path, results.load_history, strict)


def load_snapshots(path, strict: bool = False) -> dict[str, dict]:
    """{run: {"step": (S,), "model_id": (G,), "W": (S, G, m, n), ...}} of every complete run at or under `path` that kept
    snapshots (exec.snapshots)."""
    return _read_each(path, results.load_snapshots, strict)


def load_weights(path, strict: bool = False) -> dict[str, dict]:
    """{run: {"W": (G, m, n), "b": (G, n), "model_id": (G,)}, and "W2": (G, n, m) for model.kind=abs} for every complete
    run at or under `path`."""
    return _read_each(path, results.load_weights, strict)


def model_weights(weights: dict, run: str, model_id: int, key: str = "W"):
    """(W (m, n), b (n,)) of one model from `load_weights`' result; key="W2": (W2 (n, m), b) of a model.kind=abs
    model (whose W is its W1)."""
    w = weights[run]
    index = np.flatnonzero(w["model_id"] == model_id)
    if len(index) != 1:
        raise KeyError(f"model_id {model_id} not found in run {run!r}")
    return w[key][index[0]], w["b"][index[0]]
