"""sweep/recorder.py's exec.snapshots (weights kept at log-spaced steps): the steps and the chunk plan, snapshots never
change a model's result, survive a resume, are written beside the results and change the run's fingerprint."""
import numpy as np
import pytest

from sweep.grid import build_grid
from sweep.identity import config_fingerprint
from sweep.recorder import chunk_plan, final_evaluation, snapshot_bytes, snapshot_steps
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


class _Exec:
    def __init__(self, eval_batches, eval_rel_se, eval_max_batches):
        self.eval_batches, self.eval_rel_se, self.eval_max_batches = eval_batches, eval_rel_se, eval_max_batches


class _Cfg:
    def __init__(self, **exec_):
        self.exec = _Exec(**exec_)


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
