"""Where an SAE's activations come from, and the true features they are scored against.

A source is one activation law: directions F (d, G) and a feature law (per-feature density, value distribution),
    h = F x          (a tied toy model: F = W, x drawn from the model's own data law, sweep/data.py)
    h = ReLU(F x)    (a toy model with a hidden ReLU: model.kind=privileged or abs, F = W resp. W1)
The true features are the columns F_i, those with ||W_i|| > sweep.metrics.REPRESENTED_NORM counted (all of them for
synthetic sources). A Sharkey-style synthetic source has G random unit directions in d dims (`synthetic`).
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from sweep import metrics, results
from sweep.config import Config, ConfigError, as_list, build
from sweep.data import sample_features
from sweep.grid import GROUP_COLUMNS, build_grid
from sweep.kinds import KINDS
from sweep.ranking import best_per_cell

MUTATE_ONLY = ["synthetic_density", "synthetic", "activations", "from_run"]


@dataclass(frozen=True)
class Sources:
    """S sources of one shape, stacked: what the SAE trainer and the scores need."""

    features: np.ndarray  # (S, d, G) the true directions F (unnormalised: a toy model's W)
    density: np.ndarray  # (S, G)
    represented: np.ndarray  # (S, G) bool: the true features the scores count
    seed: np.ndarray  # (S,) uint32 the source's own seed (a toy model's seed)
    stream: np.ndarray  # (S,) uint32 a hash of the source's identity (its coordinates)
    coords: pd.DataFrame  # one row per source: its identity (run, model_id, sparsity, ...) for the tables
    hidden_relu: bool = False
    distribution: str = "uniform"
    rng: str = "fast"
    correlation: str = "none"
    set_size: int = 1

    def __len__(self) -> int:
        return len(self.coords)

    @property
    def d(self) -> int:
        return self.features.shape[1]


def activations(key, F, density, batch: int, sources: Sources):
    """(d, batch) activations of ONE source: fresh samples x of its feature law through F (ReLU for a hidden ReLU)."""
    x_t = sample_features(key, density, batch, sources.distribution, sources.rng, features_first=True,
                          correlation=sources.correlation, set_size=sources.set_size)
    h_t = F @ x_t
    return jax.nn.relu(h_t) if sources.hidden_relu else h_t


def synthetic_density(n_features: int, mean_active: float, decay: float) -> np.ndarray:
    """p_i proportional to decay^i with sum p_i = mean_active (clipped at 1: then the sum is below it)."""
    p = decay ** np.arange(n_features, dtype=np.float64)
    return np.minimum(p * mean_active / p.sum(), 1.0)


def synthetic(cfg) -> Sources:
    """One Sharkey-style source per synthetic.seed: G directions drawn N(0, I_d) and normalised."""
    seeds = [int(s) for s in as_list(cfg.seed)]
    name = f"synthetic|{cfg.d}|{cfg.n_features}|{cfg.mean_active:.10g}|{cfg.decay:.10g}"
    F = np.stack([np.asarray(jax.random.normal(jax.random.PRNGKey(s), (cfg.d, cfg.n_features))) for s in seeds])
    F = F / np.linalg.norm(F, axis=1, keepdims=True)
    density = np.tile(synthetic_density(cfg.n_features, cfg.mean_active, cfg.decay), (len(seeds), 1))
    coords = pd.DataFrame({"source_seed": seeds, "d": cfg.d, "n_features": cfg.n_features,
                           "mean_active": cfg.mean_active, "decay": cfg.decay})
    return Sources(F.astype(np.float32), density.astype(np.float32), np.ones(density.shape, bool),
                   np.asarray(seeds, np.uint32), np.full(len(seeds), zlib.crc32(name.encode()), np.uint32), coords)


def run_config(run_dir: Path) -> Config:
    return build(OmegaConf.load(Path(run_dir) / results.CONFIG))


# what a source's row keeps of its model: the grid coordinates (a cell) and the seed
CELL_COLUMNS = ("sparsity", "density", "lr", "weight_decay", "importance_decay", "importance_value",
                "importance_relative", *GROUP_COLUMNS)


def from_run(run_dir, select: str = "all") -> Sources:
    """The models of one complete run as sources (select=best: each cell's lowest-loss seed only)."""
    run_dir = Path(run_dir)
    cfg = run_config(run_dir)
    grid = build_grid(cfg).chunk(cfg.exec.chunk, cfg.exec.n_chunks)
    weights = results.load_weights(run_dir)
    models = results.load_run(run_dir).drop_duplicates("model_id").reset_index(drop=True)
    if len(grid) != len(weights["W"]):
        raise ConfigError(f"run={run_dir}: its config makes {len(grid)} models, its weights hold {len(weights['W'])}")
    ids = best_per_cell(models) if select == "best" else models.loc[models["status"] == "ok", "model_id"].to_numpy()
    W = weights["W"][ids]
    coords = models.set_index("model_id").loc[ids, [c for c in ("seed", *CELL_COLUMNS, "loss") if c in models]]
    coords = coords.reset_index().rename(columns={"seed": "model_seed", "loss": "model_loss"})
    coords.insert(0, "run", str(run_dir))
    return Sources(W.astype(np.float32), grid.density[ids], metrics.represented(W), grid.seed[ids], grid.stream[ids],
                   coords, KINDS[cfg.model.kind].hidden_relu, cfg.data.distribution, cfg.data.rng,
                   cfg.data.correlation, cfg.data.set_size)


def run_dirs(path) -> list[Path]:
    """The complete runs at or under `path`, not counting anything under an `sae` dir."""
    path = Path(path)
    if not path.is_dir():
        raise ConfigError(f"run={str(path)!r} is not a directory (give a finished run or multirun dir)")
    found = sorted(p.parent for p in path.rglob(results.SUMMARY)
                   if (p.parent / results.WEIGHTS).exists() and "sae" not in p.relative_to(path).parts[:-1])
    if not found:
        raise ConfigError(f"run={str(path)!r} holds no complete run ({results.SUMMARY} beside {results.WEIGHTS})")
    return found


def as_jax(sources: Sources) -> tuple:
    return jnp.asarray(sources.features), jnp.asarray(sources.density)
