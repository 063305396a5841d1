"""Results I/O: the tidy table (one row per model x feature), weights, loss history, config.

Every file is written to a temporary name and moved into place; `summary.json` is written
last and marks the run complete, so a reader never sees a half-written run.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

from sweep import exact, metrics
from sweep.grid import Grid
from sweep.kinds import KINDS, Params

TABLE = "results.parquet"
WEIGHTS = "weights.npz"
HISTORY = "history.parquet"
CONFIG = "config.yaml"
SNAPSHOTS = "snapshots.npz"  # exec.snapshots > 0: step (S,), W (S, models, m, n), b (S, models, n), model_id
SUMMARY = "summary.json"  # written last: its presence means the run is complete


class IncompleteRunError(FileNotFoundError):
    pass


def model_status(W, b, final_loss) -> np.ndarray:
    """'ok', or 'diverged' for a model whose weights or loss are not finite."""
    finite = np.isfinite(W).all(axis=(-2, -1)) & np.isfinite(b).all(axis=-1) & np.isfinite(final_loss)
    return np.where(finite, "ok", "diverged")


def exact_losses(grid: Grid, W, b) -> np.ndarray:
    """Each model's exact expected loss where it can be computed (sweep/exact.py), else NaN."""
    group = grid.coords.iloc[0] if len(grid) else None
    if group is None or not exact.available(KINDS[group["model_kind"]], int(group["n_features"]), group["distribution"]) \
            or group.get("correlation", "none") != "none":  # the exact loss assumes independent features
        return np.full(len(W), np.nan)
    return exact.model_losses(W, b, grid.density, grid.importance)


def feature_table(grid: Grid, params: Params, final_loss, loss_se=None, eval_batches=None,
                  train_loss=None) -> pd.DataFrame:
    """One row per model x feature with every grid axis as a column, from the stacked parameters of the grid's
    models ({"W": (G, m, n), "b": (G, n), ...}). For an untied kind W is the model's W1: the per-feature columns are
    those of W1's columns (the input side); the neuron counts are the kind's (sweep/kinds.py: Kind.neurons)."""
    W, b = params["W"], params["b"]
    n_models, _, n_features = W.shape
    inside = KINDS[grid.coords["model_kind"].iloc[0]].neurons(params) if n_models else np.zeros(W.shape, bool)
    per_model = grid.coords.copy()
    per_model.insert(0, "model_id", np.arange(n_models))
    per_model["stream"] = grid.stream
    per_model["loss"] = final_loss
    per_model["loss_se"] = np.nan if loss_se is None else loss_se
    per_model["eval_batches"] = 0 if eval_batches is None else eval_batches  # this model's own count (sweep/train.py)
    # data.train_size > 0: the loss on the model's own T training samples (`loss` is on fresh samples: the test loss)
    per_model["train_loss"] = np.nan if train_loss is None else train_loss
    per_model["exact_loss"] = exact_losses(grid, W, b)
    per_model["dims_per_feature"] = metrics.dimensions_per_feature(W)
    per_model["dimensionality_sum"] = metrics.dimensionality_sum(W)  # sum_i D_i <= m (tests/sweep/test_metrics_capacity.py)
    per_model["n_represented"] = metrics.represented(W).sum(axis=-1)
    per_model["polysemantic_neurons"] = (inside.sum(axis=-1) >= 2).sum(axis=-1)  # neurons holding >= 2 features
    per_model["status"] = model_status(W, b, final_loss)  # a non-finite W2 makes the loss non-finite
    table = per_model.loc[per_model.index.repeat(n_features)].reset_index(drop=True)
    table.insert(1, "feature", np.tile(np.arange(n_features), n_models))
    # Per feature: the grid's exact values (0.9, not float32(1 - 0.1)), or the feature's own with
    # data.feature_sparsity.
    if grid.coords["density"].isna().any():
        table["density"] = grid.density.reshape(-1).astype(np.float64)
        table["sparsity"] = 1.0 - table["density"]
    else:
        table["density"] = np.repeat(grid.coords["density"].to_numpy(), n_features)
        table["sparsity"] = np.repeat(grid.coords["sparsity"].to_numpy(), n_features)
    table["importance"] = grid.importance.reshape(-1).astype(np.float64)
    table["norm"] = metrics.feature_norms(W).reshape(-1)
    table["bias"] = b.reshape(-1)
    table["superposition"] = metrics.superposition(W).reshape(-1)
    table["interference"] = metrics.interference(W).reshape(-1)
    table["dimensionality"] = metrics.dimensionality(W).reshape(-1)
    table["represented"] = metrics.represented(W).reshape(-1)
    table["neurons"] = inside.sum(axis=-2).reshape(-1)  # neurons feature i is in (W_ji > 0.5; abs: |W1_ji| rescaled)
    return table


def history_table(steps, losses) -> pd.DataFrame:
    """Long table of the mean training loss per logged interval: columns model_id, step, loss."""
    n_intervals, n_models = losses.shape
    return pd.DataFrame(
        {
            "model_id": np.tile(np.arange(n_models), n_intervals),
            "step": np.repeat(steps, n_models),
            "loss": losses.reshape(-1),
        }
    )


def shown(path) -> Path:
    """`path` as logs and messages show it: relative to the working dir when it lies under it, else as given
    (Hydra gives a single run's dir as an absolute path, a multirun's as written in hydra.sweep.dir)."""
    path = Path(path)
    try:
        return path.resolve().relative_to(Path.cwd().resolve()) if path.is_absolute() else path
    except ValueError:
        return path


def write_atomically(path: Path, write) -> None:
    """`write(tmp)` then rename onto `path`: a reader sees the old file or the complete new one."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    write(tmp)
    os.replace(tmp, path)


def write_run(run_dir, table: pd.DataFrame, params: Params, history: pd.DataFrame, config_yaml: str, summary: dict,
              snapshots: dict | None = None) -> None:
    """Every file of a run: `params` are the models' stacked parameters (weights.npz: W, b, model_id, then the
    rest, e.g. an untied kind's W2); `snapshots` the weights kept during training (exec.snapshots)."""
    W, b, rest = params["W"], params["b"], {k: v for k, v in params.items() if k not in ("W", "b")}
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_atomically(run_dir / TABLE, lambda p: table.to_parquet(p, index=False))
    write_atomically(run_dir / HISTORY, lambda p: history.to_parquet(p, index=False))

    def save_weights(p):
        with open(p, "wb") as f:
            np.savez(f, W=W, b=b, model_id=np.arange(len(W)), **rest)

    write_atomically(run_dir / WEIGHTS, save_weights)
    if snapshots is not None:  # exec.snapshots: the weights after each kept step (sweep/train.py: snapshot_steps)

        def save_snapshots(p):
            with open(p, "wb") as f:
                np.savez(f, model_id=np.arange(len(W)), **snapshots)

        write_atomically(run_dir / SNAPSHOTS, save_snapshots)
    write_atomically(run_dir / CONFIG, lambda p: p.write_text(config_yaml))
    write_atomically(run_dir / SUMMARY, lambda p: p.write_text(json.dumps(summary, indent=2, default=float)))


def is_complete(run_dir) -> bool:
    return (Path(run_dir) / SUMMARY).exists()


def _require_complete(run_dir) -> Path:
    run_dir = Path(run_dir)
    if not is_complete(run_dir):
        raise IncompleteRunError(f"{run_dir} holds no complete run (no {SUMMARY})")
    return run_dir


def load_run(run_dir) -> pd.DataFrame:
    """The tidy model x feature table of one complete run."""
    return pd.read_parquet(_require_complete(run_dir) / TABLE)


def load_weights(run_dir) -> dict:
    with np.load(_require_complete(run_dir) / WEIGHTS, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def load_snapshots(run_dir) -> dict:
    """The weights kept during training (exec.snapshots): step (S,), W (S, models, m, n), b (S, models, n), ..."""
    path = _require_complete(run_dir) / SNAPSHOTS
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: the run was made without exec.snapshots")
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def load_history(run_dir) -> pd.DataFrame:
    return pd.read_parquet(_require_complete(run_dir) / HISTORY)


def load_summary(run_dir) -> dict:
    return json.loads((_require_complete(run_dir) / SUMMARY).read_text())
