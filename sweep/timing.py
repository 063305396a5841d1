"""How long a run will take, for a dry run: estimated from this machine's past runs (issue 24, point 11).

Every run that trains appends what it measured to RATES, in the user's cache dir beside the compile cache (so per
machine): its work per step (models x batch x n x m), steps, wall seconds (training, evaluation and writing) and
compile seconds. A dry run takes the recorded run nearest in work per step (a stack's speed per model depends on its
size), among the runs of at least LONG steps where there are any, and scales it: compile + (wall - compile) x this
job's work / that run's work. Rough: model kinds, optimiser settings and the machine's load all move it, so the dry
run says where the number comes from.
"""
from __future__ import annotations

import json
import math
import os
from pathlib import Path

KEEP = 200  # runs kept in RATES, newest last
LONG = 1000  # steps: estimates scale runs at least this long where there are any


def cache_dir() -> str:
    """This project's per-user cache dir (compiled programs, recorded run times, packed plotly.js), read from the
    environment when called (sweep/__init__.py puts JAX's compilation cache under it)."""
    return os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "tms-sweep")


def rates_path() -> Path:
    return Path(cache_dir()) / "rates.json"


def work_per_step(config, n_models: int) -> int:
    """Multiply-adds per step, up to a constant: models x batch x n x m."""
    return n_models * config.batch_size * config.model.n_features * config.model.n_hidden


def recorded() -> list[dict]:
    try:
        runs = json.loads(rates_path().read_text())
        return [r for r in runs if r["work_per_step"] > 0 and r["steps"] > 0 and r["wall_seconds"] > 0]
    except (OSError, ValueError, TypeError, KeyError):  # none yet, or unreadable: no estimate
        return []


def record(config, n_models: int, steps: int, wall_seconds: float, compile_seconds: float) -> None:
    """Append one trained run's measured time to RATES; a cache that cannot be written is skipped (it only feeds
    estimates)."""
    if steps <= 0:
        return
    entry = {"work_per_step": work_per_step(config, n_models), "steps": steps, "wall_seconds": round(wall_seconds, 3),
             "compile_seconds": round(compile_seconds, 3), "kind": config.model.kind, "models": n_models}
    from sweep.results import write_atomically

    path, runs = rates_path(), (recorded() + [entry])[-KEEP:]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(path, lambda tmp: tmp.write_text(json.dumps(runs)))
    except OSError:
        pass


def estimate(work: int, steps: int) -> tuple[float, dict] | None:
    """(seconds, the recorded run it was scaled from) to train `steps` steps of `work` (work_per_step); None if no run
    is recorded on this machine."""
    runs = recorded()
    if not runs or steps <= 0:
        return None
    runs = [r for r in runs if r["steps"] >= LONG] or runs  # a short run's time is mostly compile and evaluation
    nearest = min(runs, key=lambda r: abs(math.log(r["work_per_step"] / work)))
    per_work = (nearest["wall_seconds"] - nearest["compile_seconds"]) / (nearest["work_per_step"] * nearest["steps"])
    return nearest["compile_seconds"] + max(per_work, 0.0) * work * steps, nearest


def duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.2g} s" if seconds < 10 else f"{seconds:.0f} s"
    return f"{seconds / 60:.2g} min" if seconds < 5400 else f"{seconds / 3600:.2g} h"


def said(estimated: tuple[float, dict] | None, what: str = "") -> str:
    """The estimate in words, with its source."""
    if estimated is None:
        return f"no time estimate: no run recorded on this machine yet (each run records its time in {rates_path()})"
    seconds, nearest = estimated
    return (f"about {duration(seconds)}{what}, scaled from this machine's recorded run nearest in work per step "
            f"({nearest['models']:,} {nearest['kind']} models, {nearest['steps']:,} steps in {nearest['wall_seconds']:.3g} s; "
            f"{rates_path()}); rough: load and settings move it")
