"""What sweep/recorder.py keeps around the steps of train_grid, against hand values: when checkpoints are written, that
a run interrupted after one resumes to the uninterrupted result, the timings and the progress bar's rate, and each
logged loss with snapshots. (Split from test_train_bookkeeping.py, issue 21.)"""
from __future__ import annotations

import contextlib
import io
import re
import signal
import time

import numpy as np
import pytest

import sweep.checkpoint
from sweep.grid import build_grid
from sweep.train import train_grid
from tests.conftest import make_config

# chunks of 3 steps end after steps 3, 6, 9, 12; a checkpoint is due after 6 (6 - 0 >= 6) and after 12, the end
TINY = dict(sparsity=[0.5], seed=[0, 1], optim={"lr": 3e-2, "weight_decay": [0.0, 0.1]}, steps=12, batch_size=16)


TINY_EXEC = {"log_every": 3, "checkpoint_every": 6, "eval_batches": 2, "eval_max_batches": 2}


def tiny(**exec_):
    return make_config(**TINY, exec={**TINY_EXEC, **exec_})


class Interrupted(Exception):
    """Stands for a kill right after a checkpoint was written."""


@pytest.fixture(scope="module")
def reference():
    """The tiny grid trained in one go with the progress bar on (cfg.exec.progress, the default of train_grid's
    `progress`): (grid, result, wall seconds of the call, what it wrote to stderr)."""
    cfg = tiny(progress=True)
    grid = build_grid(cfg)
    assert grid.block_size() == 2 and len(grid) == 4  # 2 streams (seeds) x 2 models (weight decays) each
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        start = time.perf_counter()
        result = train_grid(cfg, grid)
        wall = time.perf_counter() - start
    return grid, result, wall, err.getvalue()


def saved_steps(monkeypatch, interrupt: bool = False) -> list[int]:
    """Record the step of every checkpoint written (the real one is written); with `interrupt`, stop after the first."""
    saved, real = [], sweep.checkpoint.save

    def spy(path, state, next_step, *args, **kwargs):
        real(path, state, next_step, *args, **kwargs)
        saved.append(int(next_step))
        if interrupt:
            raise Interrupted

    monkeypatch.setattr(sweep.checkpoint, "save", spy)
    return saved


@pytest.mark.parametrize("steps, log_every, checkpoint_every, expected", [
    (12, 3, 6, [6]),  # chunks end at 3, 6 (due: 6 - 0 >= 6), 9 (3 since), 12 (due, but the end: never saved there)
    (10, 2, 4, [4, 8]),  # 2, 4 (due), 6, 8 (due), 10 (the end)
    (12, 3, 0, []),  # 0: never
])
def test_checkpoints_are_written_every_checkpoint_every_steps_and_never_at_the_end(
        tmp_path, monkeypatch, steps, log_every, checkpoint_every, expected):
    cfg = make_config(**{**TINY, "steps": steps},
                      exec={**TINY_EXEC, "log_every": log_every, "checkpoint_every": checkpoint_every})
    saved = saved_steps(monkeypatch)
    train_grid(cfg, build_grid(cfg), checkpoint_path=tmp_path / "checkpoint.npz", fingerprint="tiny")
    assert saved == expected


def test_an_interrupted_run_resumes_from_its_checkpoint_to_the_uninterrupted_result(tmp_path, monkeypatch, reference):
    grid, whole, _, _ = reference
    cfg, path = tiny(), tmp_path / "checkpoint.npz"
    saved = saved_steps(monkeypatch, interrupt=True)
    with pytest.raises(Interrupted):
        train_grid(cfg, grid, checkpoint_path=path, fingerprint="tiny")
    assert saved == [6] and path.exists()
    monkeypatch.undo()
    resumed = train_grid(cfg, grid, checkpoint_path=path, fingerprint="tiny")
    assert resumed.resumed_from_step == 6 and whole.resumed_from_step == 0
    assert resumed.history_steps.tolist() == whole.history_steps.tolist() == [2, 5, 8, 11]
    for name in ("W", "b", "history_loss", "final_loss", "final_loss_se"):  # bitwise, as the README says
        np.testing.assert_array_equal(getattr(resumed, name), getattr(whole, name), err_msg=name)


def test_timings_and_the_final_evaluation_are_reported(reference):
    _, result, wall, _ = reference
    # compile_seconds: from the start to the end of the first chunk (compilation included); seconds: the whole run
    assert 0 < result.compile_seconds < result.seconds <= wall
    assert result.eval_batches.tolist() == [2] * 4 and result.final_loss.shape == result.final_loss_se.shape == (4,)
    assert np.all(np.isfinite(result.final_loss_se)) and np.all(result.final_loss_se >= 0)


def test_the_progress_bar_shows_model_steps_per_second(reference):
    _, result, _, err = reference
    assert "4 models" in err  # cfg.exec.progress=True and no `progress` argument: the bar is shown
    # it counts every step once: past the total, tqdm would show a bare count ("48step") instead of n/total
    assert "| 12/12 [" in err.rsplit("\r", 1)[-1] and not re.search(r"\d+step \[", err), err[-300:]
    shown = re.findall(r"model_steps_per_s=([\d,]*\d)", err)
    assert shown, err
    # the last chunk (3 steps of 4 models) ran after the first chunk ended (compile_seconds) and before the run did
    bound = 3 * 4 / (result.seconds - result.compile_seconds)
    assert float(shown[-1].replace(",", "")) >= bound - 0.5, (shown[-1], bound)


def test_no_bar_when_progress_is_off(capsys):
    cfg = tiny(progress=True)
    train_grid(cfg, build_grid(cfg), progress=False)  # the argument overrides the config
    assert "model_steps_per_s" not in capsys.readouterr().err


def test_with_snapshots_each_logged_loss_is_the_mean_over_its_steps(reference):
    """exec.snapshots=4 over 12 steps keeps the weights after steps round(geomspace(1, 12, 4)) = 1, 2, 5, 12; with
    log_every=6 the chunks end after 1, 2, 5, 6, 12 and run as power-of-two scans (3 = 2 + 1, 6 = 4 + 2). Each logged
    loss is the mean of its chunk's per-step losses (read from a run logging every step), whatever its scans."""
    grid, whole, _, _ = reference
    per_step = train_grid(tiny(log_every=1), grid).history_loss  # (12, 4): one row per step
    snap = train_grid(tiny(log_every=6, snapshots=4), grid)
    assert snap.history_steps.tolist() == [0, 1, 4, 5, 11]
    expected = [per_step[a:b].mean(axis=0) for a, b in ((0, 1), (1, 2), (2, 5), (5, 6), (6, 12))]
    np.testing.assert_allclose(snap.history_loss, np.stack(expected), rtol=2e-6, atol=0)
    assert snap.snapshots["step"].tolist() == [1, 2, 5, 12]
    np.testing.assert_array_equal(snap.snapshots["W"][-1], whole.W)
    np.testing.assert_array_equal(snap.W, whole.W)
    assert snap.snapshots["W"].shape == (4, 4, 2, 5) and not np.array_equal(snap.snapshots["W"][0], whole.W)


def test_a_stop_request_checkpoints_at_the_chunk_end_and_exits_143_then_resumes_to_the_same_result(
        tmp_path, monkeypatch, reference):
    """SIGTERM in a SLURM task (checkpoint.stop_at_next_chunk): the chunk ends, its state is saved although no
    checkpoint is due (3 < checkpoint_every = 6), and the process exits with 128 + SIGTERM; a rerun resumes there."""
    grid, uninterrupted, _, _ = reference
    saved, path = saved_steps(monkeypatch), tmp_path / "checkpoint.npz"
    sweep.checkpoint.stop_at_next_chunk(signal.SIGTERM)
    try:
        with pytest.raises(SystemExit) as stopped:
            train_grid(tiny(), grid, progress=False, checkpoint_path=path)
    finally:
        sweep.checkpoint.STOP.clear()
    assert stopped.value.code == 143 and saved == [3] and path.exists()
    resumed = train_grid(tiny(), grid, progress=False, checkpoint_path=path)
    assert resumed.resumed_from_step == 3 and saved == [3, 9]  # the next is due 6 steps after the stop's
    np.testing.assert_array_equal(resumed.W, uninterrupted.W)
