"""The precise ranking (issue 22): the seeds a cell's evaluation could not tell apart (`Run.tied`) re-scored on fresh
batches that all of them share, and compared pairwise. A paired difference on common samples is far less noisy than
either loss (the seeds' errors on a batch move together), so most ties of the evaluation resolve here; those that do
not are reported as ties, never picked.

`rescore(run, rows)`: each model's loss on `batches` x `batch_size` fresh samples of its data law (a stream of its own,
label "rescore", a function of the cell's densities only), its gap to the lowest and the gap's standard error.
`precise_ties(run)`: `Run.tied` less the seeds whose paired gap to the cell's best is above z standard errors, in rounds
of more samples (2^20, then 2^24 and 2^26 for the seeds still tied): a tie left after the last round is a tie at that
resolution.
"""
from __future__ import annotations

import zlib

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from analysis.aggregate import cell_columns
from analysis.run import Run
from sweep.data import sample_features
from sweep.kinds import KINDS

RESCORE_LABEL = zlib.crc32(b"rescore")
BATCHES, BATCH_SIZE, Z = 64, 16384, 2.0  # 2^20 samples a model: paired gaps of ~1e-4 of the loss resolve (measured)
ROUNDS = (BATCHES, 16 * BATCHES, 64 * BATCHES)  # precise_ties: 2^20 samples, then 2^24 and 2^26 for the seeds still tied


def _params(run: Run, rows: pd.DataFrame) -> dict:
    """The models' parameters stacked: {"W": (M, m, n), "b": (M, n), and "W2" for an untied kind}."""
    out = {}
    for key in ("W", "b", "W2"):
        if key in run.weights[rows["run"].iloc[0]]:
            out[key] = jnp.stack([jnp.asarray(run.weights[r][key][np.flatnonzero(run.weights[r]["model_id"] == i)[0]])
                                  for r, i in zip(rows["run"], rows["model_id"])])
    return out


def rescore(run: Run, rows: pd.DataFrame, batches: int = BATCHES, batch_size: int = BATCH_SIZE) -> pd.DataFrame:
    """rows (models of one cell) with rescored (mean loss on the shared samples), paired_gap (to the lowest of them)
    and paired_se (the gap's standard error over batches)."""
    first = rows.iloc[0]
    features = run.table[(run.table["run"] == first["run"]) & (run.table["model_id"] == first["model_id"])]
    features = features.sort_values("feature")
    density, importance = (jnp.asarray(features[c].to_numpy(), jnp.float32) for c in ("density", "importance"))
    kind, params = KINDS[first["model_kind"]], _params(run, rows)
    law = zlib.crc32(features["density"].to_numpy(np.float64).tobytes())  # the cell's data law, not its seeds
    key = jax.random.fold_in(jax.random.fold_in(jax.random.PRNGKey(0), RESCORE_LABEL), law)

    def one(i):
        x_t = sample_features(jax.random.fold_in(key, i), density, batch_size, first["distribution"],
                              features_first=True, correlation=first["correlation"], set_size=int(first["set_size"]))
        return jax.vmap(kind.loss, in_axes=(0, None, None))(params, x_t, importance)

    losses = np.asarray(jax.lax.map(one, jnp.arange(batches)), np.float64)  # (batches, models)
    mean = losses.mean(axis=0)
    gaps = losses - losses[:, [int(np.argmin(mean))]]
    return rows.assign(rescored=mean, paired_gap=gaps.mean(axis=0),
                       paired_se=gaps.std(axis=0, ddof=1) / np.sqrt(batches))


def precise_ties(run: Run, z: float = Z, rounds: tuple[int, ...] = ROUNDS, tied: pd.DataFrame | None = None
                 ) -> pd.DataFrame:
    """`Run.tied` (or `tied`: the cells of it to resolve), each cell with a tie re-scored and ordered by its paired
    gap; kept: the seeds within z paired standard errors of the cell's best, re-scored on `rounds` batches in turn
    while more than one is kept (tie_size recounted; evaluation_ties: the seeds the evaluation tied; rescore_samples:
    the samples a model of the last round, 0 where the evaluation left no tie)."""
    keys = cell_columns(run.table, feature=False)
    cells = []
    for _, rows in (run.tied if tied is None else tied).groupby(keys, dropna=False, sort=False):
        scored = rows.assign(rescored=rows["rank_loss"], paired_gap=0.0, paired_se=0.0, rescore_samples=0,
                             evaluation_ties=len(rows))
        for batches in rounds:
            if len(scored) == 1:
                break
            scored = rescore(run, scored.drop(columns=["rescored", "paired_gap", "paired_se"]), batches)
            scored = scored.sort_values("paired_gap").assign(rescore_samples=batches * BATCH_SIZE)
            scored = scored[scored["paired_gap"] <= z * scored["paired_se"]]
        cells.append(scored)
    out = pd.concat(cells, ignore_index=True)
    out["tie_size"] = out.groupby(keys, dropna=False)["rank_loss"].transform("size")
    return out
