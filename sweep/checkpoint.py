"""Training checkpoints: the stacked train state plus loss history, written atomically.

A checkpoint belongs to one config and one version of the code (its fingerprint); resuming from
it continues each model's random stream at the saved step, so a resumed run ends bitwise
identical to an uninterrupted one. A checkpoint that cannot be read (a full disk, a crashed file
system) or that belongs to something else is set aside under a new name, with a warning, and
training restarts from step 0.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
import time
from pathlib import Path

import jax
import numpy as np

from sweep.results import write_atomically

CHECKPOINT = "checkpoint.npz"
log = logging.getLogger(__name__)
STOP = threading.Event()  # set by stop_at_next_chunk: train_grid checkpoints at the end of its chunk of steps and exits
STOP_SIGNAL = [signal.SIGTERM]  # the signal that set STOP: SIGTERM exits (a requeued task resumes), SIGINT reports


def stop_at_next_chunk(signum=signal.SIGTERM, frame=None) -> None:
    """Signal handler (SIGTERM in a SLURM task, hydra_plugins/slurm_launcher/; Ctrl-C in sweep.run): stop at the next
    chunk end, checkpointed."""
    STOP_SIGNAL[0] = signum or signal.SIGTERM
    STOP.set()


def saved_step(path: Path) -> int | None:
    """The step a checkpoint at `path` resumes from; None if there is none (or it cannot be read)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return int(data["next_step"])
    except (OSError, ValueError, KeyError):
        return None


def save(path: Path, state, next_step: int, history_steps: list, history_loss: list, fingerprint: str,
         snapshots: dict | None = None) -> None:
    """`snapshots` (exec.snapshots): the weights kept so far, {name: array}, saved as snapshot_<name>."""
    leaves = {f"leaf_{i}": np.asarray(leaf) for i, leaf in enumerate(jax.tree.leaves(state))}
    leaves.update({f"snapshot_{name}": np.asarray(a) for name, a in (snapshots or {}).items()})

    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez(
                f,
                next_step=next_step,
                history_steps=np.asarray(history_steps, np.int64),
                history_loss=np.asarray(history_loss, np.float32).reshape(len(history_steps), -1),
                fingerprint=np.asarray(fingerprint),
                **leaves,
            )

    write_atomically(path, write)


def set_aside(path: Path, reason: str) -> Path:
    """Rename `path` to checkpoint.set-aside-<time>.npz (kept for inspection) and warn, naming both."""
    target = path.with_name(f"{path.stem}.set-aside-{time.strftime('%Y%m%dT%H%M%S')}{path.suffix}")
    os.replace(path, target)
    log.warning("checkpoint %s %s; set aside as %s, training restarts from step 0", path, reason, target.name)
    return target


def load(path: Path, template, fingerprint: str):
    """(state, next_step, history_steps, history_loss, snapshots) from `path`, or None if there is no usable one
    there; snapshots: {name: array} of the weights kept so far (empty without exec.snapshots).

    A checkpoint that cannot be read, or that holds another fingerprint, is set aside. (exec.snapshots is part of
    the fingerprint, so a checkpoint never resumes into a run that keeps other snapshots.)
    """
    if not path.exists():
        return None
    treedef = jax.tree.structure(template)
    try:
        with np.load(path, allow_pickle=False) as data:
            saved = str(data["fingerprint"])
            if saved == fingerprint:
                leaves = [data[f"leaf_{i}"] for i in range(treedef.num_leaves)]
                snapshots = {k.removeprefix("snapshot_"): data[k] for k in data.files if k.startswith("snapshot_")}
                restored = int(data["next_step"]), list(data["history_steps"]), list(data["history_loss"]), snapshots
    except Exception as error:  # noqa: BLE001 (a checkpoint is a cache: whatever is wrong with it, train again)
        set_aside(path, f"cannot be read ({type(error).__name__}: {error})")
        return None
    if saved != fingerprint:
        set_aside(path, f"belongs to another config or code version (fingerprint {saved}, not {fingerprint})")
        return None
    return (jax.tree.unflatten(treedef, leaves), *restored)
