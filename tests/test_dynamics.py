"""exec.snapshots (weights kept at log-spaced steps) and the learning-dynamics experiment (analysis/experiments/dynamics.py):
snapshots never change a model's result, survive a resume, are written beside the results; the jump and digon
readers on hand-made trajectories; the experiment CI-sized and full-size."""
import numpy as np
import pytest

from analysis.experiments.dynamics import digons, final_levels, jumps, window_starts
from sweep.grid import build_grid
from sweep.identity import config_fingerprint
from sweep.recorder import chunk_plan, snapshot_bytes, snapshot_steps
from sweep.results import load_snapshots, load_weights
from sweep.run import run
from sweep.train import train_grid
from tests.conftest import make_config

TINY = {"model": {"n_features": 6, "n_hidden": 3}, "density": [1.0, 0.1], "seed": [0, 1], "steps": 300,
        "batch_size": 64, "exec": {"log_every": 100, "checkpoint_every": 100}}
SNAP = {**TINY, "exec": {**TINY["exec"], "snapshots": 20}}


@pytest.fixture(scope="module")
def both():
    plain, snap = make_config(**TINY), make_config(**SNAP)
    grid = build_grid(plain)
    return grid, train_grid(plain, grid), train_grid(snap, grid)


def test_snapshot_steps_are_log_spaced_and_end_at_the_last_step():
    assert snapshot_steps(300, 0).size == 0 and snapshot_steps(300, 1).tolist() == [300]
    steps = snapshot_steps(10_000, 100)
    assert steps[0] == 1 and steps[-1] == 10_000 and (np.diff(steps) > 0).all() and len(steps) == 84
    ratios = steps[1:] / steps[:-1]
    assert ratios[-10:].max() < 1.11  # 100 points over 4 decades: a factor 10^(4/99) = 1.097 apart once rounding is gone


def test_chunk_plan_without_snapshots_is_one_scan_per_log_interval_and_with_them_ends_at_every_snapshot():
    plain, snap = make_config(**TINY), make_config(**SNAP)
    assert chunk_plan(plain, 0) == [(0, [100]), (100, [100]), (200, [100])]
    assert chunk_plan(plain, 100) == [(100, [100]), (200, [100])]
    plan = chunk_plan(snap, 0)
    ends = [first + sum(scans) for first, scans in plan]
    assert set(snapshot_steps(300, 20)) | {100, 200, 300} == set(ends) and ends == sorted(ends) and ends[-1] == 300
    assert all(first == end for (first, _), end in zip(plan[1:], ends))
    assert all(s & (s - 1) == 0 and scans == sorted(scans, reverse=True) for _, scans in plan for s in scans)
    assert chunk_plan(snap, 100)[0][0] == 100  # a resume continues the same plan


def test_snapshots_leave_every_model_bitwise_unchanged(both):
    _, plain, snap = both
    np.testing.assert_array_equal(snap.W, plain.W)
    np.testing.assert_array_equal(snap.b, plain.b)
    np.testing.assert_array_equal(snap.final_loss, plain.final_loss)
    assert plain.snapshots is None
    np.testing.assert_array_equal(snap.snapshots["step"], snapshot_steps(300, 20))
    assert snap.snapshots["W"].shape == (len(snapshot_steps(300, 20)), 4, 3, 6)
    np.testing.assert_array_equal(snap.snapshots["W"][-1], snap.W)  # the last snapshot is the final weights
    assert not np.array_equal(snap.snapshots["W"][0], snap.W)
    # the history gains a row per snapshot; the mean over each 100-step interval is the same (float32 rounding)
    assert set(plain.history_steps) <= set(snap.history_steps)


def test_snapshots_survive_a_resume(both, tmp_path):
    grid, _, reference = both
    cfg = make_config(**SNAP)
    path = tmp_path / "checkpoint.npz"
    train_grid(cfg, grid, checkpoint_path=path, fingerprint="mine")  # leaves the checkpoint of step 200
    resumed = train_grid(cfg, grid, checkpoint_path=path, fingerprint="mine")
    assert resumed.resumed_from_step == 200
    for name in ("step", "W", "b"):
        np.testing.assert_array_equal(resumed.snapshots[name], reference.snapshots[name])
    np.testing.assert_array_equal(resumed.history_loss, reference.history_loss)


def test_a_run_writes_snapshots_beside_its_results_and_they_change_its_fingerprint(tmp_path):
    cfg = make_config(**{**SNAP, "steps": 40, "exec": {"log_every": 20, "snapshots": 5}})
    run(cfg, tmp_path, "")
    snaps, weights = load_snapshots(tmp_path), load_weights(tmp_path)
    np.testing.assert_array_equal(snaps["W"][-1], weights["W"])
    np.testing.assert_array_equal(snaps["model_id"], weights["model_id"])
    assert snapshot_bytes(cfg) == 4 * (3 * 6 + 6)
    assert config_fingerprint(cfg) != config_fingerprint(make_config(**{**SNAP, "steps": 40, "exec": {"log_every": 20}}))
    # without snapshots the fingerprint is the one of the code before exec.snapshots existed (LATER_DEFAULTS)
    assert config_fingerprint(make_config(**TINY)) == config_fingerprint(make_config(**TINY, **{}))


def test_jumps_levels_and_digons_on_hand_made_trajectories():
    steps = np.array([1, 2, 4, 8, 16, 32, 64, 128, 256, 512])
    assert window_starts(steps).tolist() == [-1, -1, 0, 1, 2, 3, 4, 5, 6, 7]
    D = np.full((10, 4), 0.3)
    D[6:, 0] = 0.5  # jumps 0.3 -> 0.5 at step 64
    D[4:, 1] = 1.0
    D[8:, 1] = 0.5  # 0.3 -> 1 at 16, then 1 -> 0.5 at 256
    D[5:, 2] = 0.0  # dies at 32
    D[:, 3] = np.linspace(0.3, 0.5, 10)  # drifts slowly: no jump, ends at 1/2
    loss = np.r_[[1.0] * 4, 0.5, 0.5, 0.25, 0.21, 0.2, 0.2]
    j = jumps({"D": D, "steps": steps, "loss": loss})
    assert j["jumped"].tolist() == [True, True, False, False]  # feature 2 ends at 0: no level to jump to
    assert j["represented"].tolist() == [True, True, False, True]
    assert steps[j["at"][:3]].tolist() == [64, 16, 32]
    assert final_levels(D).tolist() == [0.5, 0.5, 0.0, 0.5]
    assert np.isnan(final_levels(np.array([[0.3]]))).all()
    # loss 1 at step 4 -> 0.5 at 16, of the 1 - 0.2 still to lose: 5/8; the last window [128, 512] has 0.21 - 0.2 < 5% of 0.8 left
    np.testing.assert_allclose(j["drop"][4], 0.5 / 0.8)
    assert np.isnan(j["drop"][9]) and not j["quiet"][9]
    np.testing.assert_allclose(j["drop_at_jumps"], [0.25 / 0.3, 0.5 / 0.8])  # windows [16, 64] and [4, 16]
    assert not j["quiet"][:2].any()  # no window yet
    W = np.array([[1.0, -1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]])
    assert digons(W, np.array([0.5, 0.5, 0.0, 0.0])) == (1, True)
    assert digons(W, np.array([0.5, 0.5, 0.0, 1.0]))[1] is False  # a feature at 1 is not a digon
    W3 = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    assert digons(W3, np.array([0.5, 0.5, 0.0])) == (0, False)  # orthogonal, not antipodal


def test_ci_sized_dynamics_experiment(tmp_path):
    from analysis.paper import reproduce

    small = ["model.n_features=20", "model.n_hidden=5"]  # the preset's density at the old n=20, m=5: also digons
    directory, facts = reproduce("dynamics", [*small, "steps=3000", "seed=[0,1]", "exec.snapshots=40"], root=tmp_path,
                                 progress=False)
    assert (directory / "figures" / "dynamics.png").exists()
    assert len(facts) == 3 and all(f.measured for f in facts)
    assert facts[0].passed, [f"{f.claim}: {f.measured}" for f in facts]  # digons; the jump claims FAIL as at full size


# The full-size verdicts (docs/experiments/dynamics.md, 2026-12-07, n=400, m=30, density 0.3, 4 seeds): a seed ends in
# digons yes (4/4); 75% of the represented features jump yes (58/58); the loss drops at the jumps no (quiet windows 35%,
# all before the first jump).
DYNAMICS_VERDICTS = [True, True, False]


@pytest.mark.slow
def test_full_size_dynamics_verdicts(tmp_path):
    from analysis.paper import reproduce

    _, facts = reproduce("dynamics", [], root=tmp_path, progress=False)
    assert [f.passed for f in facts] == DYNAMICS_VERDICTS, [f"{f.claim}: {f.measured}" for f in facts]
