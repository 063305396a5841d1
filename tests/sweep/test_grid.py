"""sweep/grid.py by hand: the fused axes and group columns the README lists, row order, streams, blocks and chunks,
and a selection of rows. Every expectation is a number worked out by hand or a rule quoted from the README."""
from __future__ import annotations

import zlib

import numpy as np

from sweep.grid import FUSED_AXES, GROUP_COLUMNS, build_grid, importance_vector
from tests.conftest import make_config

# The README's list of keys that "may be a list; every combination is trained at once, in one compiled program".
README_FUSED = ("seed", "sparsity", "density", "data.train_size", "importance.decay", "importance.value",
                "importance.relative", "optim.lr",
                "optim.weight_decay")


# ... and of keys that "change shapes or code" and split a sweep into groups (as table columns): model.*, batch_size,
# steps, data.* (distribution, rng, correlation, set_size), importance.kind, optim.schedule.
README_GROUPS = ("model_kind", "n_features", "n_hidden", "batch_size", "steps", "distribution", "rng", "correlation",
                 "set_size", "importance_kind", "schedule")


def test_grid():
    assert set(FUSED_AXES) == set(README_FUSED)
    assert set(README_GROUPS) <= set(GROUP_COLUMNS)
    np.testing.assert_allclose(importance_vector("geometric", 4, 0.5), [1, 0.5, 0.25, 0.125])
    np.testing.assert_allclose(importance_vector("constant", 3, 2.5), [2.5, 2.5, 2.5])
    np.testing.assert_allclose(importance_vector("extra", 3, 4.0), [1, 1, 4])
    np.testing.assert_allclose(importance_vector("list", 3, None, [3, 1, 2]), [3, 1, 2])
    cfg = make_config(sparsity=[0.0, 0.75], seed=[2, 0], importance={"decay": [0.5, 1.0]}, optim={"lr": [1e-3, 1e-2],
                      "weight_decay": [0.0, 0.1]}, model={"n_features": 3, "n_hidden": 1, "kind": "linear"}, batch_size=16,
                      steps=7, data={"distribution": "normal", "rng": "threefry"})
    grid = build_grid(cfg)
    assert len(grid) == 2 * 2 * 2 * 2 * 2
    c = grid.coords
    # rows: seed, density, importance, lr, weight decay (the last axis fastest), in the order given
    assert c["seed"].tolist()[:16] == [2] * 16 and c["seed"].tolist()[16:] == [0] * 16
    assert c["sparsity"].tolist()[:8] == [0.0] * 8 and c["sparsity"].tolist()[8:16] == [0.75] * 8
    np.testing.assert_allclose(c["density"], 1 - c["sparsity"])
    assert c["weight_decay"].tolist()[:4] == [0.0, 0.1, 0.0, 0.1] and c["lr"].tolist()[:4] == [1e-3, 1e-3, 1e-2, 1e-2]
    assert c["importance_decay"].tolist()[:8] == [0.5] * 4 + [1.0] * 4
    np.testing.assert_allclose(grid.density[8], [0.25] * 3)
    np.testing.assert_allclose(grid.importance[0], [1, 0.5, 0.25])
    np.testing.assert_allclose(grid.importance[4], [1, 1, 1])
    np.testing.assert_allclose(grid.lr, c["lr"], rtol=1e-7)
    np.testing.assert_allclose(grid.weight_decay, c["weight_decay"], rtol=1e-7)
    assert grid.seed.tolist() == c["seed"].tolist()
    for column, value in (("model_kind", "linear"), ("n_features", 3), ("n_hidden", 1), ("batch_size", 16), ("steps", 7),
                          ("distribution", "normal"), ("rng", "threefry"), ("importance_kind", "geometric"),
                          ("schedule", "constant")):
        assert (c[column] == value).all(), column
    # streams: the data stream is a function of the density only, the initialisation one of every coordinate
    assert grid.data_stream[0] == zlib.crc32(b"1") and grid.data_stream[8] == zlib.crc32(b"0.25")
    assert len(set(zip(grid.seed, grid.stream))) == 32 and len(set(grid.stream)) == 16
    assert grid.block_size() == 8  # importance x lr x weight decay share one (seed, density) stream
    sub = grid.select([3, 1])
    assert sub.coords["weight_decay"].tolist() == [0.1, 0.1] and sub.coords.index.tolist() == [0, 1]
    assert sub.stream.tolist() == [grid.stream[3], grid.stream[1]] and sub.lr.tolist() == [grid.lr[3], grid.lr[1]]
    assert grid.select(np.arange(0)).block_size() == 1 and grid.select([0, 8]).block_size() == 1
    assert grid.chunk_bounds(4) == [(0, 8), (8, 16), (16, 24), (24, 32)]
    assert grid.chunk_bounds(3) == [(0, 16), (16, 24), (24, 32)]
    assert [len(grid.chunk(k, 4)) for k in range(4)] == [8, 8, 8, 8]
    assert grid.chunk_bounds(40)[-8:] == [(0, 0)] * 8 and grid.chunk_bounds(40)[:2] == [(0, 1), (1, 2)]  # more chunks than models
    # density given directly; per-feature sparsity
    dense = build_grid(make_config(density=[0.5, 0.1], seed=0))
    np.testing.assert_allclose(dense.coords["sparsity"], [0.5, 0.9])
    np.testing.assert_allclose(dense.density[:, 0], [0.5, 0.1], rtol=1e-7)
    per = build_grid(make_config(data={"feature_sparsity": [0.0, 0.5, 0.9, 0.2, 0.75]}))
    np.testing.assert_allclose(per.density[0], [1.0, 0.5, 0.1, 0.8, 0.25], rtol=1e-6)
    assert per.coords["density"].isna().all() and per.coords["sparsity"].isna().all()
    default = build_grid(make_config())
    np.testing.assert_allclose(default.coords["sparsity"], [0.0, 0.7, 0.8, 0.9, 0.97, 0.99])
    for kind, key, values in (("constant", "value", [0.5, 2.0]), ("extra", "relative", [0.5, 2.0])):
        g = build_grid(make_config(importance={"kind": kind, key: values}, model={"n_features": 2, "n_hidden": 1}))
        assert g.coords[f"importance_{key}"].tolist()[:2] == values
        assert g.block_size() == 2


def test_grid_select_renumbers_its_rows_and_keeps_its_columns():
    grid = build_grid(make_config(sparsity=[0.0, 0.5, 0.9], seed=[0, 1]))
    part = grid.select([4, 1])
    assert list(part.coords.columns) == list(grid.coords.columns)  # no stray "index" column
    assert list(part.coords.index) == [0, 1]
    assert part.coords["sparsity"].tolist() == [0.5, 0.5] and part.coords["seed"].tolist() == [1, 0]
    np.testing.assert_array_equal(part.stream, grid.stream[[4, 1]])
