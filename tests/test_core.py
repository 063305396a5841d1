"""Hand values for the core modules, written against the mutants `python -m tests.mutate` found surviving
(docs/testing.md): the grid, the final evaluation, the metrics, the memory estimate, the sweeper's grouping,
the phase rule, seed aggregation and the theory's candidates. Every expectation is a number worked out by
hand or a rule quoted from the README, never a value read back from the code under test."""
from __future__ import annotations

import math
import zlib

import numpy as np
import pandas as pd
import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser

from analysis import classify, phase, theory, theory_paper
from analysis.aggregate import aggregate, per_model, ranking_loss, select_seeds
from analysis.config import PhaseConfig, TheoryConfig
from hydra_plugins.fused_sweeper.fused_sweeper import group_overrides
from sweep import memory, metrics
from sweep.config import ConfigError
from sweep.grid import FUSED_AXES, GROUP_COLUMNS, build_grid, importance_vector
from sweep.train import final_evaluation
from tests.conftest import make_config

# The README's list of keys that "may be a list; every combination is trained at once, in one compiled program".
README_FUSED = ("seed", "sparsity", "density", "importance.decay", "importance.value", "importance.relative", "optim.lr",
                "optim.weight_decay")
# ... and of keys that "change shapes or code" and split a sweep into groups (as table columns): model.*, batch_size,
# steps, data.* (distribution, rng, correlation, set_size), importance.kind, optim.schedule.
README_GROUPS = ("model_kind", "n_features", "n_hidden", "batch_size", "steps", "distribution", "rng", "correlation",
                 "set_size", "importance_kind", "schedule")


# ----------------------------------------------------------------------------- the grid


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


# ----------------------------------------------------------------------------- the final evaluation


class _Exec:
    def __init__(self, eval_batches, eval_rel_se, eval_max_batches):
        self.eval_batches, self.eval_rel_se, self.eval_max_batches = eval_batches, eval_rel_se, eval_max_batches


class _Cfg:
    def __init__(self, **exec_):
        self.exec = _Exec(**exec_)


def test_grid_select_renumbers_its_rows_and_keeps_its_columns():
    grid = build_grid(make_config(sparsity=[0.0, 0.5, 0.9], seed=[0, 1]))
    part = grid.select([4, 1])
    assert list(part.coords.columns) == list(grid.coords.columns)  # no stray "index" column
    assert list(part.coords.index) == [0, 1]
    assert part.coords["sparsity"].tolist() == [0.5, 0.5] and part.coords["seed"].tolist() == [1, 0]
    np.testing.assert_array_equal(part.stream, grid.stream[[4, 1]])


def test_final_evaluation():
    """The doubling rule with per-batch losses chosen by hand: model 0 is steady, model 1 noisy, model 2 diverged.
    Each model's count is its own: the noisy model's doubling leaves the steady one at its first batches."""
    losses = np.stack([np.full(64, 0.5), 1.0 + np.tile([-0.3, 0.3], 32), np.full(64, np.nan)])
    calls = []

    def evaluate(params, stacked, first):
        calls.append(int(first))
        return losses[:, first:first + 4]

    mean, se, count = final_evaluation(evaluate, None, None, _Cfg(eval_batches=4, eval_rel_se=0.05, eval_max_batches=64),
                                       lambda a: np.asarray(a))
    # model 1 (mean 1): se = 0.3 / sqrt(n - 1) <= 0.05 first at n = 64 (n = 32: 0.0539)
    assert count.tolist() == [4, 64, 4] and calls == list(range(0, 64, 4))
    assert mean[0] == 0.5 and se[0] == 0.0 and np.isnan(mean[2])
    assert mean[1] == pytest.approx(losses[1].mean())
    assert mean[1] == 1.0 and se[1] == pytest.approx(0.3 / np.sqrt(63))
    calls.clear()
    mean, se, count = final_evaluation(evaluate, None, None, _Cfg(eval_batches=4, eval_rel_se=0.05, eval_max_batches=16),
                                       lambda a: np.asarray(a))
    assert count.tolist() == [4, 16, 4] and calls == [0, 4, 8, 12] and mean[1] == pytest.approx(losses[1, :16].mean())
    calls.clear()
    _, se, count = final_evaluation(evaluate, None, None, _Cfg(eval_batches=4, eval_rel_se=1.0, eval_max_batches=64),
                                    lambda a: np.asarray(a))
    assert count.tolist() == [4, 4, 4] and calls == [0]  # quiet enough at once
    # the count doubles: 4 batches (se 0.3/sqrt(3) = 0.17) are too noisy for 12%, 8 (0.3/sqrt(7) = 0.113) are not
    _, se, count = final_evaluation(evaluate, None, None, _Cfg(eval_batches=4, eval_rel_se=0.12, eval_max_batches=64),
                                    lambda a: np.asarray(a))
    assert count.tolist() == [4, 8, 4]
    _, se, count = final_evaluation(lambda p, s, f: losses[:, f:f + 1], None, None,
                                    _Cfg(eval_batches=1, eval_rel_se=0.05, eval_max_batches=1), lambda a: np.asarray(a))
    assert count.tolist() == [1, 1, 1] and np.isinf(se).all()  # one batch: no standard error


# ----------------------------------------------------------------------------- metrics


def test_metrics():
    assert metrics.REPRESENTED_NORM == 0.5  # the README's cut
    W = np.array([[3.0, 0.0, 1.0, 0.0], [4.0, 0.0, 0.0, 0.5]])  # norms 5, 0, 1, 0.5
    np.testing.assert_allclose(metrics.feature_norms(W), [5, 0, 1, 0.5])
    np.testing.assert_array_equal(metrics.represented(W), [True, False, True, False])  # 0.5 is not above 0.5
    o = metrics.overlaps(W)  # (W_i_hat . W_j)
    np.testing.assert_allclose(o[0], [5, 0, 0.6, 0.4])
    np.testing.assert_allclose(o[1], [0, 0, 0, 0])  # zero column: zero row
    np.testing.assert_allclose(o[2], [3, 0, 1, 0])
    np.testing.assert_allclose(metrics.superposition(W), [0.36 + 0.16, 0, 9, 16])
    np.testing.assert_allclose(metrics.interference(W), [3 + 2, 0, 3, 2])
    # D_i = ||W_i||^2 / sum_j (W_i_hat . W_j)^2
    np.testing.assert_allclose(metrics.dimensionality(W), [25 / 25.52, 0, 1 / 10, 0.25 / 16.25])
    assert metrics.dimensions_per_feature(W) == pytest.approx(2 / 26.25)
    angles = metrics.pairwise_angles(W)
    assert angles[0, 2] == pytest.approx(np.degrees(np.arccos(0.6))) and angles[2, 3] == pytest.approx(90)
    assert np.isnan(angles[1]).all()
    assert angles[0, 3] == pytest.approx(np.degrees(np.arccos(2 / 2.5)))  # W_0 . W_3 = 2, norms 5 and 0.5
    # rounding pushes |cos| past 1 for these (found by search): a feature and its antipode are 180 degrees, never NaN
    v = np.array([[1.493], [-1.259]])
    np.testing.assert_array_equal(metrics.pairwise_angles(np.hstack([v, -1.03 * v])), [[0, 180], [180, 0]])
    # D_i with sum_j (W_i_hat . W_j)^2 below 1: short orthogonal features still have one dimension each
    np.testing.assert_allclose(metrics.dimensionality(np.array([[0.6, 0.0], [0.0, 0.3]])), [1.0, 1.0])
    stacked = np.stack([W, -2 * W])
    np.testing.assert_allclose(metrics.interference(stacked), [metrics.interference(W), 4 * metrics.interference(W)])
    np.testing.assert_allclose(metrics.superposition(stacked)[1], metrics.superposition(W) * 4)
    np.testing.assert_allclose(metrics.dimensionality(stacked)[1], metrics.dimensionality(W))
    np.testing.assert_allclose(metrics.dimensions_per_feature(stacked), [2 / 26.25, 2 / 105])
    np.testing.assert_allclose(metrics.dimensions_per_feature(0.5 * np.eye(2)), 4.0)  # m / ||W||_F^2 = 2 / 0.5
    assert np.isnan(metrics.dimensions_per_feature(np.zeros((2, 3))))  # no feature kept: undefined (sweep/metrics.py)


# ----------------------------------------------------------------------------- memory


def test_memory(monkeypatch):
    from sweep.config import build

    def cfg(n, m, batch_size, steps=10_000):
        return build({"model": {"n_features": n, "n_hidden": m}, "batch_size": batch_size, "steps": steps})

    # 4 bytes x (3.5 + 1.5/block batch tensors + 8 parameter copies) + 1 kB (sweep/memory.py's bound)
    assert memory.bytes_per_model(cfg(5, 2, 1024)) == 4 * (5 * 5120 + 8 * 15) + 1024
    assert memory.bytes_per_model(cfg(3, 2, 100), block=4) == 4 * (300 * 31 // 8 + 8 * 9) + 1024
    per = memory.bytes_per_model(cfg(5, 2, 1024))
    monkeypatch.setattr(memory, "available_bytes", lambda: 10 * per)
    memory.check_fits(cfg(5, 2, 1024), 10)  # exactly fits
    with pytest.raises(ConfigError, match="11 models"):
        memory.check_fits(cfg(5, 2, 1024), 11)
    assert memory.models_per_chunk(cfg(5, 2, 1024, 10**6), per, None) == 1  # the budget holds exactly one
    # a short run: the cache would allow 10, the overhead rule asks for ceil(2.5 / 0.1 x 1.5e8 / (1000 x 5120)) = 733
    assert memory.models_per_chunk(cfg(5, 2, 1024, 1000), 10**6 * per, 10 * per) == math.ceil(25 * 1.5e8 / (1000 * 5120))
    block, shared = memory.bytes_per_model(cfg(2, 1, 1024), 8), cfg(2, 1, 1024, 10**6)
    assert memory.models_per_chunk(shared, 10**6 * block, 100 * block, block=8) == 48  # half the cache: 50 -> 6 blocks
    assert memory.models_per_chunk(shared, 10**6 * block, 10 * block, block=8) == 5  # less than a block


# ----------------------------------------------------------------------------- the sweeper's groups


def plan(*args):
    return group_overrides(OverridesParser.create().parse_overrides(list(args)), FUSED_AXES)


@pytest.mark.parametrize("key", README_FUSED)
def test_sweeper(key):
    """Each fused key's sweep is one list override: one group, as many points as values."""
    values = "0,1,2" if key == "seed" else "0.5,0.25,0.125"
    groups, points = plan(f"{key}={values}", "model.n_hidden=1,2")
    assert points == 6 and len(groups) == 2
    listed = f"{key}=[{values}]"
    assert all(listed in g for g in groups), groups
    other = {"sparsity": "density=null", "density": "sparsity=null"}.get(key)
    assert all((other in g) == (other is not None) for g in groups) if other else True
    if key in ("sparsity", "density"):
        assert all(other in g for g in groups)
    # repeated values across list items are kept once; a plain value stays a plain override
    groups, points = plan(f"{key}=[0,1],[1,0]" if key == "seed" else f"{key}=[0.5,0.25],[0.25,0.1]")
    assert points == 2 and len(groups) == 1
    assert groups[0][0] == (f"{key}=[0,1]" if key == "seed" else f"{key}=[0.5,0.25,0.1]")
    assert plan(f"{key}=1")[0][0][0] == f"{key}=1"


def test_sweeper_nulls_only_a_density_key_that_is_set():
    assert plan("sparsity=null", "seed=0,1")[0] == [["sparsity=null", "seed=[0,1]"]]
    assert plan("density=null")[0] == [["density=null"]]
    assert plan("sparsity=0.5")[0] == [["sparsity=0.5", "density=null"]]  # a plain value sets the density too
    assert plan("density=0.5", "seed=0,1")[0] == [["density=0.5", "seed=[0,1]", "sparsity=null"]]
    assert plan("sparsity=0.5", "density=null")[0] == [["sparsity=0.5", "density=null"]]


# ----------------------------------------------------------------------------- phases


def test_phase():
    assert (PhaseConfig().norm, PhaseConfig().superposition) == (0.5, 0.25)  # the README's rule
    for bad in ({"norm": -0.1}, {"superposition": -0.1}, {"norm_full": -1.0}, {"superposition_full": -1.0},
                {"superposition": math.nan}, {"norm_full": 0.0}, {"superposition_full": 0.0}, {"norm_full": math.nan},
                {"superposition_full": math.nan}):
        with pytest.raises(ValueError, match=f"phase.{next(iter(bad))}"):
            PhaseConfig(**bad)
    PhaseConfig(norm=0.0, superposition=0.0, norm_full=0.5, superposition_full=0.2)  # the edges that are allowed
    norm = [0.5, 0.51, 1.0, 1.0, 1.0, 1.0]
    sup = [2.0, 0.0, 0.24, 0.26, 0.5, 1.0]  # 0.5: a triangle; 1.0: an antipodal pair
    assert list(phase.classify(norm, sup)) == ["not_represented", "dedicated", "dedicated", "superposition",
                                               "superposition", "superposition"]
    # colour: saturation by norm (full at 1), hue blue -> red by superposition (full at 0.5)
    np.testing.assert_allclose(phase.colour(1.0, 0.25), (phase.BLUE + phase.RED) / 2)
    np.testing.assert_allclose(phase.colour(2.0, 3.0), phase.RED)
    np.testing.assert_allclose(phase.colour(0.25, 0.0), 0.75 * phase.WHITE + 0.25 * phase.BLUE)
    np.testing.assert_allclose(phase.colour([0.0, -1.0], [0.5, -1.0]), [phase.WHITE, phase.WHITE])
    np.testing.assert_allclose(phase.phase_colour([["dedicated", "superposition"]]), [[phase.BLUE, phase.RED]])
    wide = PhaseConfig(norm_full=2.0, superposition_full=2.0)  # saturation at norm 2, red at superposition 2
    np.testing.assert_allclose(phase.colour(1.0, 1.0, wide), 0.5 * phase.WHITE + 0.25 * phase.BLUE + 0.25 * phase.RED)
    # majority: a tie goes to the best seed's phase if tied, else to the first tied phase in PHASES order
    fractions = pd.DataFrame([[0.2, 0.4, 0.4], [0.2, 0.4, 0.4], [0.5, 0.0, 0.5]])
    assert list(phase._majority(fractions, pd.Series(["not_represented", "superposition", "superposition"]))) == [
        "dedicated", "superposition", "superposition"]
    # at r = 1 mirror images tie: every phase a feature has; elsewhere the extra feature's own
    W = np.array([[[1.0, 0.0]], [[1.0, 0.0]], [[1.0, -1.0]]])
    ph, sets = classify.tied_phases(W, [1.0, 2.0, 1.0])
    assert sets == ["not_represented|dedicated", "not_represented", "superposition"]
    assert list(ph) == ["not_represented", "not_represented", "superposition"]
    assert classify.tied_phases(W[:1], [1 + 1e-6])[1] == ["not_represented"]  # ties at r = 1 exactly (1e-9), not near it
    assert classify.tied_phases(W[:1], [1 + 1e-12])[1] == ["not_represented|dedicated"]
    cells = pd.DataFrame({"phase": ["dedicated", "dedicated", "superposition"], "majority": ["dedicated"] * 3,
                          "phase_optimal": ["dedicated", "superposition", "superposition"],
                          "phases_optimal": ["not_represented|dedicated", "superposition", "superposition"]})
    assert phase.agreement(cells) == pytest.approx(2 / 3) and phase.agreement(cells, empirical="majority") == pytest.approx(1 / 3)
    assert math.isnan(phase.agreement(cells.iloc[:0]))
    assert phase.agreement(cells.drop(columns="phases_optimal").assign(phase_paper=cells["phase"]), "paper") == 1.0


def phase_rows(**change):
    """A 2 x 2 phase-change grid of n=2, m=1 models (2 seeds per cell), as the tidy table stores it."""
    rows = []
    for model_id, (density, relative, seed) in enumerate((d, r, s) for d in (1.0, 0.1) for r in (0.5, 2.0) for s in (0, 1)):
        for feature in range(2):
            rows.append({"run": ".", "model_id": model_id, "feature": feature, "seed": seed, "density": density,
                         "sparsity": 1 - density, "lr": 1e-3, "weight_decay": 0.01, "importance_relative": relative,
                         "model_kind": "relu", "n_features": 2, "n_hidden": 1, "batch_size": 8, "steps": 10,
                         "distribution": "uniform", "rng": "fast", "importance_kind": "extra", "schedule": "constant",
                         "loss": 0.1 + seed, "status": "ok", "norm": 1.0, "superposition": 0.0, "importance": 1.0,
                         "represented": True, "bias": 0.0, "dimensionality": 1.0, "dims_per_feature": 1.0, "n_represented": 2})
    table = pd.DataFrame(rows)
    for column, value in change.items():
        table[column] = value
    return table


def test_phase_applies_only_to_phase_change_runs():
    assert phase.applies(phase_rows())
    assert not phase.applies(phase_rows().drop(columns="importance_relative"))
    assert not phase.applies(phase_rows(importance_kind="geometric"))
    assert not phase.applies(phase_rows(n_features=5))
    assert not phase.applies(phase_rows(distribution="normal"))
    assert not phase.applies(phase_rows(model_kind="linear"))
    assert not phase.applies(phase_rows(density=0.5))
    assert not phase.applies(phase_rows(importance_relative=2.0))
    three = phase_rows(n_features=3, n_hidden=2)
    assert phase.applies(three)
    mixed = phase_rows()
    mixed.loc[mixed["feature"] == 1, "density"] = 0.3  # per-feature densities: no shared density per model
    assert not phase.applies(mixed)
    seeds = phase.seed_phases(phase_rows(), "paper")
    assert "index" not in seeds and seeds.index.tolist() == list(range(8)) and (seeds["feature"] == 1).all()
    cells = phase.cell_phases(phase_rows(), "paper")
    assert len(cells) == 4 and (cells["n_seeds"] == 2).all() and (cells["best_seed"] == 0).all()
    assert (cells["phase"] == "dedicated").all() and (cells["ranked_by"] == "loss").all()
    assert (phase.cell_phases(phase_rows(run="job/3"))["best_run"] == "job/3").all()


# ----------------------------------------------------------------------------- seed aggregation


def test_aggregate():
    table = phase_rows()
    table["exact_loss"] = np.where(table["seed"] == 0, 0.9, 0.2)  # exact losses rank seed 1 first where finite ...
    table.loc[table["density"] == 0.1, "exact_loss"] = np.nan  # ... else the evaluated loss (seed 0 first)
    np.testing.assert_allclose(ranking_loss(table), np.where(table["density"] == 1.0, table["exact_loss"], table["loss"]))
    best = select_seeds(table, "best")
    used = best[best["used"]].drop_duplicates("model_id")
    assert sorted(zip(used["density"], used["seed"])) == [(0.1, 0), (0.1, 0), (1.0, 1), (1.0, 1)]
    paper = aggregate(table, "paper")  # two seeds: drop the worse one
    assert (paper["n_seeds"] == 1).all() and (paper["n_trained"] == 2).all()
    mean = aggregate(table.assign(norm=table["seed"] * 2.0 + 1.0), "mean")
    assert (mean["norm"] == 2.0).all() and (mean["seeds"] == "0,1").all() and (mean["rule"] == "mean").all()
    assert len(per_model(table)) == 8 and "norm" not in per_model(table) and "loss" in per_model(table)
    assert set(aggregate(table, "best")["exact_loss"].dropna()) == {0.2}
    # a merged multirun: columns of other groups are NaN here (importance_decay), and still identify cells
    merged = table.assign(importance_decay=np.nan, interference=table["seed"] * 1.0 - 0.5)
    best = select_seeds(merged, "best")
    assert best.drop_duplicates("model_id")["used"].sum() == 4
    paper = aggregate(merged, "paper")
    assert len(paper) == 8 and (paper["n_seeds"] == 1).all() and (paper["n_trained"] == 2).all()
    np.testing.assert_allclose(aggregate(merged, "mean")["interference"], 0.0)  # (-0.5 + 0.5) / 2
    assert "interference" not in per_model(merged)
    assert "index" not in per_model(merged) and per_model(merged).index.tolist() == list(range(8))


# ----------------------------------------------------------------------------- theory


def test_theory():
    np.testing.assert_allclose(theory.ignored_feature_loss(0.5), 0.5 / 3 - 0.0625)
    np.testing.assert_allclose(theory.extra_importance(3, [2.0, 0.5]), [[1, 1, 2], [1, 1, 0.5]])
    p, r = np.array([0.05, 0.5, 1.0]), np.array([0.5, 2.0, 1.0])
    solutions = theory.candidate_solutions(2, 1, p, r, TheoryConfig(steps=150)).set_index(["candidate", "density"])
    ignored, dedicated = solutions.loc["ignored"], solutions.loc["dedicated"]
    # closed forms (mean over the 2 features): the dropped feature loses importance x (p/3 - p^2/4)
    np.testing.assert_allclose(ignored["loss"], r * (p / 3 - p**2 / 4) / 2, rtol=1e-9)
    np.testing.assert_allclose(dedicated["loss"], (p / 3 - p**2 / 4) / 2, rtol=1e-9)
    np.testing.assert_allclose(np.stack(ignored["b"]), np.stack([[0, q / 2] for q in p]))
    assert (ignored["extra_norm"] == 0).all() and (dedicated["extra_norm"] == 1).all()
    antipodal = solutions.loc["antipodal"]
    assert (antipodal["loss"] <= (1 + r) * p**2 / 6 / 2 + 1e-12).all()  # never worse than the paper's W = [1, -1]
    names3 = [c.name for c in theory.CANDIDATES[(3, 2)]]
    assert names3 == ["ignored", "dedicated", "dedicated_antipodal", "antipodal", "triangle"]
    sol3 = theory.candidate_solutions(3, 2, [0.3], [1.5], TheoryConfig(steps=150)).set_index("candidate")
    W = {name: np.asarray(sol3.loc[name, "W"]) for name in names3}
    np.testing.assert_allclose(W["ignored"], [[1, 0, 0], [0, 1, 0]])
    np.testing.assert_allclose(W["dedicated"], [[1, 0, 0], [0, 0, 1]])
    assert (sol3.loc["ignored", "extra_norm"], sol3.loc["dedicated", "extra_norm"]) == (0, 1)  # the extra feature is the last
    assert np.linalg.norm(W["dedicated_antipodal"][:, 2]) == pytest.approx(1)
    assert sol3.loc["dedicated_antipodal", "extra_superposition"] == 0
    assert sol3.loc["antipodal", "extra_superposition"] > 0.9 and np.linalg.norm(W["antipodal"][:, 0]) == pytest.approx(1)
    np.testing.assert_allclose(sol3.loc["dedicated", "loss"], (0.3 / 3 - 0.09 / 4) / 3, rtol=1e-9)
    np.testing.assert_allclose(sol3.loc["ignored", "loss"], 1.5 * (0.3 / 3 - 0.09 / 4) / 3, rtol=1e-9)
    with pytest.raises(ValueError, match="n_features=4"):
        theory.candidate_solutions(4, 2, [0.5], [1.0])
    # dense, r = 0.1: dropping the extra feature (0.1 x 1/12 / 2) beats dedicating to it (1/12 / 2) and the pair (1.1/12 / 2)
    cell = theory.phase_diagram(2, 1, [1.0], [0.1], theory=TheoryConfig(steps=50, relax_steps=0)).iloc[0]
    assert cell["candidate"] == "ignored" and cell["phase"] == "not_represented"
    assert (cell["extra_norm"], cell["extra_superposition"]) == (0.0, 0.0) and cell["loss"] == pytest.approx(0.1 / 24)
    pair = theory.phase_diagram(2, 1, [0.2], [3.0], theory=TheoryConfig(steps=100, relax_steps=0)).iloc[0]
    (w0, w1), = pair["W"]  # m = 1: ||W_extra|| = |w1|, its superposition (W_extra_hat . W_0)^2 = w0^2
    assert pair["candidate"] == "antipodal" and abs(abs(w0) - abs(w1)) > 0.03
    assert pair["extra_norm"] == pytest.approx(abs(w1)) and pair["extra_superposition"] == pytest.approx(w0**2)
    # the paper's diagram: closed forms at one cell, winner and ties by hand
    table = theory_paper.paper_phase_diagram(2, 1, [0.5], [1.0, 3.0])
    q = 0.5 / 3 - 0.0625
    np.testing.assert_allclose(table["loss_ignored"], [q / 2, 3 * q / 2])
    np.testing.assert_allclose(table["loss_antipodal"], [2 * 0.25 / 6 / 2, 4 * 0.25 / 6 / 2])
    np.testing.assert_allclose(table["loss_dedicated"], [q / 2, q / 2])
    assert table["candidate"].tolist() == ["antipodal", "dedicated"]  # r = 3: q/2 = 0.052 < 4 x 0.25/6/2 = 0.083
    assert table["phase"].tolist() == ["superposition", "dedicated"]


# ----------------------------------------------------------------------------- the model


@pytest.mark.parametrize("n, m", [(3, 2), (5, 2)])  # n <= 2m applies W^T W once; n > 2m W^T (W x)
def test_model(n, m):
    import jax.numpy as jnp

    from sweep.kinds import KINDS, importance_weighted_mse_t

    rng = np.random.default_rng(n)
    W, b, x = rng.normal(size=(m, n)), rng.normal(size=n), rng.normal(size=(7, n))
    params = {"W": jnp.asarray(W, jnp.float32), "b": jnp.asarray(b, jnp.float32)}
    linear = x @ W.T @ W + b  # x' = W^T W x + b, row by row
    relu = np.maximum(linear, 0)
    np.testing.assert_allclose(KINDS["relu"].forward(params, jnp.asarray(x.T)), relu.T, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(KINDS["linear"].forward(params, jnp.asarray(x.T)), linear.T, rtol=1e-5, atol=1e-5)
    importance = rng.uniform(0.1, 2, n)
    loss = np.mean(importance * (x - relu) ** 2)  # mean over batch and features
    weights = jnp.asarray(importance)
    assert float(importance_weighted_mse_t(jnp.asarray(relu.T), jnp.asarray(x.T), weights)) == pytest.approx(loss, rel=1e-5)
    assert float(KINDS["relu"].loss(params, jnp.asarray(x.T), weights)) == pytest.approx(loss, rel=1e-5)


@pytest.mark.parametrize("kind", ["relu", "linear", "privileged", "abs"])
def test_every_kind_initialises_bitwise_as_flax_did(kind):
    """Runs made before sweep/kinds.py were initialised by Flax: each model still starts from those very weights."""
    import jax

    from sweep.kinds import KINDS
    from tests.conftest import flax_init

    for n, m, seed in [(5, 2, 0), (3, 7, 11), (40, 10, 3)]:
        key = jax.random.fold_in(jax.random.PRNGKey(seed), 12345)
        ours, reference = KINDS[kind].init(key, n, m), flax_init(key, n, m, untied=KINDS[kind].untied)
        assert sorted(ours) == sorted(reference) == sorted(["W", "b"] + (["W2"] if kind == "abs" else []))
        for name in reference:
            assert ours[name].dtype == reference[name].dtype and np.array_equal(ours[name], reference[name]), name


def test_each_kind_decides_its_neurons_its_exact_loss_and_its_memory_width():
    """What sweep/kinds.py says per kind reaches the table and the memory estimate (nothing else decides it)."""
    from sweep.config import build
    from sweep.kinds import KINDS
    from sweep.results import feature_table

    # neuron 0 reads features 0 and 1 (W_0i = 2, 0.8): the tied rule (W_ji > 0.5) puts both in it; the untied rule
    # rescales the row by its largest |W1_0i| (2): 0.4 for feature 1, so only feature 0; neuron 1 is empty
    W, b = np.array([[[2.0, 0.8, 0.0], [0.0, 0.0, 0.0]]]), np.zeros((1, 3))
    W2 = np.array([[[1.0, 0.0], [1.0, 0.0], [0.0, 0.0]]])
    expected = {"relu": [1, 1, 0], "linear": [1, 1, 0], "privileged": [1, 1, 0], "abs": [1, 0, 0]}
    for name, neurons in expected.items():
        signed = {"data": {"distribution": "signed_uniform"}} if KINDS[name].on_abs else {}
        cfg = build({"model": {"kind": name, "n_features": 3, "n_hidden": 2}, "seed": 0, "sparsity": 0.5}, signed)
        params = {"W": W, "b": b, **({"W2": W2} if KINDS[name].untied else {})}
        table = feature_table(build_grid(cfg), params, np.array([0.1]))
        assert table["neurons"].tolist() == neurons, name
        assert table["polysemantic_neurons"].iloc[0] == (name != "abs"), name
        assert np.isfinite(table["exact_loss"]).all() == (name == "relu"), name  # the closed form is the ReLU model's
        width = 3 + 2 if name in ("privileged", "abs") else 3  # a hidden ReLU keeps its (m, batch) activation
        assert memory.bytes_per_model(cfg) == 4 * (1024 * width * 10 // 2 + 8 * (2 * 3 + 3)) + 1024, name


# ----------------------------------------------------------------------------- data layouts


def test_data_layouts():
    import jax

    from sweep.data import fast_uniform, uniform

    key = jax.random.key(5)
    draw = np.asarray(fast_uniform(key, (3, 5)))
    assert draw.shape == (3, 5) and len(np.unique(draw)) == 15
    np.testing.assert_array_equal(fast_uniform(key, (5, 3), features_first=True), draw.T)
    np.testing.assert_array_equal(uniform(key, (3, 5), "fast"), draw)
    np.testing.assert_array_equal(uniform(key, (3, 5), "threefry"), jax.random.uniform(key, (3, 5)))
    np.testing.assert_array_equal(uniform(key, (5, 3), "threefry", features_first=True), jax.random.uniform(key, (3, 5)).T)
