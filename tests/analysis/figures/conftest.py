"""The run the figure tests draw from: weights written by hand (no training), with sweep.results."""
from __future__ import annotations

import numpy as np
import pytest

from sweep.grid import build_grid
from sweep.results import feature_table, history_table, write_run
from tests.conftest import make_config

# n=3, m=2, densities 1 and 0.1, seeds 0 and 1. Seed 0 holds the solution by hand; seed 1 a tiny W with a large
# positive bias, whose loss is far higher, so it is never the "lowest-loss seed" a figure shows.
DENSE = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])  # two orthogonal features, the third dropped
SPARSE = np.array([[1.0, -0.8, 0.0], [0.0, 0.0, 0.6]])  # an antipodal pair and a dedicated third feature
BAD = np.full((2, 3), 0.01)


def hand_weights(grid):
    W = np.stack([DENSE if d == 1.0 else SPARSE if s == 0 else BAD for d, s in zip(grid.coords.density, grid.coords.seed)])
    b = np.stack([np.array([0.0, 0.0, 0.05]) if s == 0 else np.full(3, 0.9) for s in grid.coords.seed])
    return W, b


@pytest.fixture(scope="module")
def hand_run(tmp_path_factory):
    directory = tmp_path_factory.mktemp("hand_run")
    cfg = make_config(model={"n_features": 3, "n_hidden": 2}, density=[1.0, 0.1], seed=[0, 1], steps=30)
    grid = build_grid(cfg)
    W, b = hand_weights(grid)
    loss = np.where(grid.coords.seed == 0, 0.01, 0.5)
    steps = np.array([9, 19, 29])
    history = np.array([[0.3, 0.2, 0.1, 0.05], [0.2, 0.1, 0.05, 0.02], [0.1, 0.05, 0.02, 0.01]]) * (1 + np.arange(4))
    params = {"W": W, "b": b}
    write_run(directory, feature_table(grid, params, loss), params, history_table(steps, history), "", {"n_models": 4})
    return directory, grid, W, history
