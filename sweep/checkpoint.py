"""Training checkpoints: the stacked train state plus loss history, written atomically.

A checkpoint belongs to one config (its fingerprint); resuming from it continues each model's
random stream at the saved step, so a resumed run ends bitwise identical to an uninterrupted one.
"""
from __future__ import annotations

from pathlib import Path

import jax
import numpy as np

from sweep.results import write_atomically

CHECKPOINT = "checkpoint.npz"


def save(path: Path, state, next_step: int, history_steps: list, history_loss: list, fingerprint: str) -> None:
    leaves = {f"leaf_{i}": np.asarray(leaf) for i, leaf in enumerate(jax.tree.leaves(state))}

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


def load(path: Path, template, fingerprint: str):
    """(state, next_step, history_steps, history_loss) from `path`, or None if absent or for another config."""
    if not path.exists():
        return None
    with np.load(path, allow_pickle=False) as data:
        if str(data["fingerprint"]) != fingerprint:
            return None
        treedef = jax.tree.structure(template)
        leaves = [data[f"leaf_{i}"] for i in range(treedef.num_leaves)]
        state = jax.tree.unflatten(treedef, leaves)
        return state, int(data["next_step"]), list(data["history_steps"]), list(data["history_loss"])
