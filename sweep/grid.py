"""The grid: which config axes fuse into one program, and what each model's coordinates are.

A model is identified by its coordinate *values* (not its position in the grid): its random
streams are derived from them, so a model trains identically alone, fused, chunked or sharded.
Its initialisation comes from `stream` (a hash of all its coordinates), its training batches from
its seed (the random numbers) and density (their threshold); `data_stream` (a hash of its density and
data.train_size only) with its seed names that batch stream: models that differ only in importance, lr or weight
decay see the same batch at every step (common random numbers), so the trainer makes that batch once and shares
it. Grid rows are ordered seed, density, train size, importance, lr, weight decay,
so such models form contiguous blocks (`Grid.block_size`).
"""
from __future__ import annotations

import itertools
import zlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sweep.config import Config, as_list

# Config keys whose values keep array shapes the same: lists of them fuse into one program.
FUSED_AXES = (
    "seed",
    "sparsity",
    "density",
    "data.train_size",
    "importance.decay",
    "importance.value",
    "importance.relative",
    "optim.lr",
    "optim.weight_decay",
)
# Config keys that change shapes or code: each combination is its own compiled group.
# (correlation and set_size are absent from tables written before them.)
GROUP_COLUMNS = ("model_kind", "n_features", "n_hidden", "batch_size", "steps", "distribution", "rng", "importance_kind",
                 "schedule", "correlation", "set_size")

IMPORTANCE_PARAM = {"geometric": "decay", "constant": "value", "extra": "relative", "list": None}


def importance_vector(kind: str, n_features: int, param: float | None, values=None) -> np.ndarray:
    """Per-feature importance for one model."""
    i = np.arange(n_features)
    if kind == "geometric":
        return np.asarray(param, np.float64) ** i
    if kind == "constant":
        return np.full(n_features, param, np.float64)
    if kind == "extra":
        return np.where(i == n_features - 1, param, 1.0)
    return np.asarray(values, np.float64)


def _canonical(x: float) -> str:
    return f"{float(x):.10g}"


@dataclass(frozen=True)
class Grid:
    coords: pd.DataFrame  # one row per model: every grid axis plus the group columns
    density: np.ndarray  # (G, n) probability that a feature is non-zero
    importance: np.ndarray  # (G, n)
    lr: np.ndarray  # (G,)
    weight_decay: np.ndarray  # (G,)
    seed: np.ndarray  # (G,)
    stream: np.ndarray  # (G,) uint32 id of the model's initialisation stream, a hash of its coordinates
    data_stream: np.ndarray  # (G,) uint32 id of its data stream, a hash of its density and train size (with `seed`)
    train_size: np.ndarray  # (G,) data.train_size: samples in the model's own training set (0: a fresh batch a step)

    def __len__(self) -> int:
        return len(self.coords)

    def select(self, index) -> "Grid":
        index = np.asarray(index)
        return Grid(
            coords=self.coords.iloc[index].reset_index(drop=True),
            density=self.density[index],
            importance=self.importance[index],
            lr=self.lr[index],
            weight_decay=self.weight_decay[index],
            seed=self.seed[index],
            stream=self.stream[index],
            data_stream=self.data_stream[index],
            train_size=self.train_size[index],
        )

    def block_size(self) -> int:
        """K: the grid is contiguous blocks of K models that share a data stream (same seed and density).

        The gcd of the run lengths of equal (seed, data_stream), so a slice that cuts a block still shares
        within smaller blocks; 1 when nothing is shared.
        """
        if len(self) == 0:
            return 1
        ids = self.seed.astype(np.uint64) << np.uint64(32) | self.data_stream.astype(np.uint64)
        starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
        return int(np.gcd.reduce(np.diff(np.r_[starts, len(self)])))

    def chunk_bounds(self, n_chunks: int) -> list[tuple[int, int]]:
        """[start, stop) of each of `n_chunks` contiguous slices: as even as possible in whole blocks of
        `block_size()` models (so every chunk keeps sharing its batches), in models if there are fewer blocks."""
        k = self.block_size()
        unit = k if len(self) // k >= n_chunks else 1
        parts = np.array_split(np.arange(len(self) // unit), n_chunks)
        return [(int(p[0]) * unit, (int(p[-1]) + 1) * unit) if len(p) else (0, 0) for p in parts]

    def chunk(self, chunk: int, n_chunks: int) -> "Grid":
        """Contiguous slice `chunk` of `n_chunks` (see chunk_bounds)."""
        start, stop = self.chunk_bounds(n_chunks)[chunk]
        return self.select(np.arange(start, stop))


def build_grid(cfg: Config) -> Grid:
    """Cartesian product of every list-valued fused axis of a validated config."""
    n = cfg.model.n_features
    param = IMPORTANCE_PARAM[cfg.importance.kind]
    axes = {
        "seed": as_list(cfg.seed),
        "density": cfg.densities(),
        "train_size": as_list(cfg.data.train_size),
        "importance_param": as_list(getattr(cfg.importance, param)) if param else [None],
        "lr": as_list(cfg.optim.lr),
        "weight_decay": as_list(cfg.optim.weight_decay),
    }
    rows, density, importance, streams, data_streams = [], [], [], [], []
    for seed, d_value, train_size, imp_param, lr, wd in itertools.product(*axes.values()):
        if isinstance(d_value, tuple):  # per-feature (data.feature_sparsity): the columns are NaN, see the feature table
            feature_density, density_ = np.asarray(d_value, np.float64), np.nan
            d_key = ",".join(_canonical(d) for d in feature_density)
        else:
            density_ = d_value
            feature_density = np.full(n, density_)
            d_key = _canonical(density_)
        if train_size:  # a finite training set is part of the data stream (0 keeps the hashes of earlier runs)
            d_key += f"|T={int(train_size)}"
        # sparsity is shown beside density, rounded so that sparsity=0.9 reads 0.9 (not 1 - float(1 - 0.9))
        sparsity = round(1.0 - density_, 12)
        row = {"seed": int(seed), "sparsity": sparsity, "density": density_, "train_size": int(train_size), "lr": float(lr),
               "weight_decay": float(wd)}
        if param:
            row[f"importance_{param}"] = float(imp_param)
        rows.append(row)
        density.append(feature_density)
        importance.append(importance_vector(cfg.importance.kind, n, imp_param, cfg.importance.values))
        key = "|".join([d_key, _canonical(imp_param) if param else "", _canonical(lr), _canonical(wd)])
        streams.append(zlib.crc32(key.encode()))
        data_streams.append(zlib.crc32(d_key.encode()))
    coords = pd.DataFrame(rows)
    for column, value in group_values(cfg).items():
        coords[column] = value
    return Grid(
        coords=coords,
        density=np.asarray(density, np.float32),
        importance=np.asarray(importance, np.float32),
        lr=coords["lr"].to_numpy(np.float32),
        weight_decay=coords["weight_decay"].to_numpy(np.float32),
        seed=coords["seed"].to_numpy(np.uint32),
        stream=np.asarray(streams, np.uint32),
        data_stream=np.asarray(data_streams, np.uint32),
        train_size=coords["train_size"].to_numpy(np.int64),
    )


def group_values(cfg: Config) -> dict:
    """The shape/code-changing settings shared by every model of one compiled group."""
    return {
        "model_kind": cfg.model.kind,
        "n_features": cfg.model.n_features,
        "n_hidden": cfg.model.n_hidden,
        "batch_size": cfg.batch_size,
        "steps": cfg.steps,
        "distribution": cfg.data.distribution,
        "rng": cfg.data.rng,
        "importance_kind": cfg.importance.kind,
        "schedule": cfg.optim.schedule,
        "correlation": cfg.data.correlation,
        "set_size": cfg.data.set_size,
    }
