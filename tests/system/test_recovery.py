"""Corrupt or foreign state: checkpoints set aside, runs of other code refused, unreadable runs
reported; analysis.paper's hydra.sweep.dir; no host-device flags where JAX will use an accelerator."""
import json
import logging
import shutil
import signal
import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest

import analysis
from sweep.config import ConfigError
from sweep.grid import build_grid
from sweep.identity import code_version
from sweep.run import run
from sweep.train import train_grid
from tests.conftest import ROOT, make_config

TINY = {"steps": 200, "batch_size": 32, "sparsity": [0.0, 0.9], "exec": {"log_every": 50, "checkpoint_every": 50}}


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """The tiny grid trained without interruption, and the checkpoint (fingerprint "mine") that a run of it
    leaves at step 150 (train_grid saves every 50 steps and keeps the last before the end; run() deletes it)."""
    cfg = make_config(**TINY)
    path = tmp_path_factory.mktemp("checkpoint") / "checkpoint.npz"
    reference = train_grid(cfg, build_grid(cfg), checkpoint_path=path, fingerprint="mine")
    return cfg, reference, path.read_bytes()


@pytest.mark.parametrize("damage", ["truncated", "other fingerprint"])
def test_a_bad_checkpoint_is_set_aside_and_training_restarts_from_step_0(clean, tmp_path, caplog, damage):
    cfg, reference, saved = clean
    path = tmp_path / "checkpoint.npz"
    path.write_bytes(saved[: len(saved) // 2] if damage == "truncated" else saved)
    fingerprint = "other" if damage == "other fingerprint" else "mine"
    with caplog.at_level(logging.WARNING, logger="sweep.checkpoint"):
        result = train_grid(cfg, build_grid(cfg), checkpoint_path=path, fingerprint=fingerprint, progress=False)
    (aside,) = tmp_path.glob("checkpoint.set-aside-*.npz")
    (warning,) = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert str(path) in warning and aside.name in warning and "restarts from step 0" in warning
    assert ("another config or code" if damage == "other fingerprint" else "cannot be read") in warning
    assert result.resumed_from_step == 0
    np.testing.assert_array_equal(result.W, reference.W)  # trained from scratch: the uninterrupted weights
    np.testing.assert_array_equal(result.final_loss, reference.final_loss)


def test_a_matching_checkpoint_is_still_resumed(clean, tmp_path):
    cfg, reference, saved = clean
    (tmp_path / "checkpoint.npz").write_bytes(saved)
    result = train_grid(cfg, build_grid(cfg), checkpoint_path=tmp_path / "checkpoint.npz", fingerprint="mine")
    assert result.resumed_from_step == 150 and not list(tmp_path.glob("*set-aside*"))
    np.testing.assert_array_equal(result.W, reference.W)


def test_a_stop_request_checkpoints_at_the_chunk_end_exits_and_resumes_bitwise(clean, tmp_path, monkeypatch):
    """SIGTERM in a SLURM task (hydra_plugins/slurm_launcher/) calls checkpoint.stop_at_next_chunk: training writes a
    checkpoint at the end of the chunk in progress, between periodic ones, and exits 143; the resume ends bitwise."""
    from sweep import checkpoint

    cfg, reference, _ = clean
    cfg = make_config(**{**TINY, "exec": {"log_every": 50, "checkpoint_every": 1000}})  # no periodic checkpoint
    path = tmp_path / "checkpoint.npz"
    monkeypatch.setattr(checkpoint, "STOP", threading.Event())
    checkpoint.stop_at_next_chunk(signal.SIGTERM, None)
    with pytest.raises(SystemExit) as stopped:
        train_grid(cfg, build_grid(cfg), checkpoint_path=path, fingerprint="mine")
    assert stopped.value.code == 143
    checkpoint.STOP.clear()
    result = train_grid(cfg, build_grid(cfg), checkpoint_path=path, fingerprint="mine")
    assert result.resumed_from_step == 50
    np.testing.assert_array_equal(result.W, reference.W)
    np.testing.assert_array_equal(result.final_loss, reference.final_loss)


SMALL = {"steps": 20, "batch_size": 16, "exec": {"log_every": 10}}


@pytest.fixture(scope="module")
def one_run(tmp_path_factory):
    directory = tmp_path_factory.mktemp("one_run")
    run(make_config(**SMALL), directory, "")
    return directory


def test_a_complete_run_of_other_code_is_refused_unless_asked(one_run, tmp_path):
    shutil.copytree(one_run, tmp_path / "run")
    cfg = make_config(**SMALL)
    summary = run(cfg, tmp_path / "run", "")  # same config, same code: reused
    assert summary["reused"] and summary["code_version"] == code_version()
    assert code_version().startswith("0.1.0+") and len(code_version().split("+")[1]) == 12
    old = {k: v for k, v in summary.items() if k != "reused"}
    (tmp_path / "run" / "summary.json").write_text(json.dumps({**old, "code_version": "0.0.9+000000000000"}))
    with pytest.raises(ConfigError) as error:
        run(cfg, tmp_path / "run", "")
    assert "made by other code (0.0.9+000000000000" in str(error.value)
    assert "exec.reuse_other_code=true" in str(error.value) and "\n" not in str(error.value)
    assert run(make_config(**{**SMALL, "exec": {**SMALL["exec"], "reuse_other_code": True}}), tmp_path / "run", "")["reused"]


@pytest.mark.parametrize("file,loader", [("results.parquet", analysis.load), ("weights.npz", analysis.load_weights)])
def test_an_unreadable_run_is_reported_and_the_others_still_load(one_run, tmp_path, file, loader):
    for name in ("a", "b"):
        shutil.copytree(one_run, tmp_path / name)
    bad = tmp_path / "b" / file
    bad.write_bytes(bad.read_bytes()[:100])
    with pytest.warns(analysis.UnreadableRunWarning) as record:
        loaded = loader(tmp_path)
    (message,) = [str(w.message) for w in record if w.category is analysis.UnreadableRunWarning]
    assert str(tmp_path / "b") in message and "strict=True" in message
    runs = set(loaded["run"]) if file == "results.parquet" else set(loaded)
    assert runs == {"a"}
    with pytest.raises(analysis.UnreadableRunError, match=str(tmp_path / "b")):
        loader(tmp_path, strict=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", analysis.UnreadableRunWarning)
        loader(tmp_path / "a")  # a readable run alone: no warning


def test_paper_honours_hydra_sweep_dir_and_refuses_it_for_all(monkeypatch, capsys, tmp_path):
    from analysis import paper

    calls = []
    monkeypatch.setattr(paper, "reproduce", lambda name, overrides, root, gallery, directory=None:
                        calls.append((name, overrides, directory)) or (directory, []))
    assert paper.main(["intro", "--", f"hydra.sweep.dir={tmp_path}/x", "steps=50"]) == 0
    assert calls == [("intro", ["steps=50"], tmp_path / "x")]
    assert paper.main(["all", "--", f"hydra.sweep.dir={tmp_path}/x"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "config error: hydra.sweep.dir= names one experiment's dir; give one experiment, not all"]


@pytest.mark.parametrize("platforms,host_flag", [("cpu", True), ("cuda", False), ("tpu", False), ("cuda,cpu", False)])
def test_no_host_device_flag_where_jax_will_use_an_accelerator(platforms, host_flag):
    env = {"PATH": "/usr/bin:/bin", "JAX_PLATFORMS": platforms, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", "import os, sweep; print(os.environ.get('XLA_FLAGS', ''))"],
                         env=env, capture_output=True, text=True, check=True).stdout
    assert ("xla_force_host_platform_device_count" in out) == host_flag


def test_the_compilation_cache_is_on_by_default_and_can_be_turned_off(tmp_path):
    """sweep/__init__.py points JAX's persistent compilation cache at a user cache dir unless told not to."""
    import os

    show = "import os, sweep; print(os.environ.get('JAX_COMPILATION_CACHE_DIR'))"

    def cache_dir(**env):
        base = {k: v for k, v in os.environ.items() if k not in ("JAX_COMPILATION_CACHE_DIR", "TMS_SWEEP_COMPILE_CACHE")}
        done = subprocess.run([sys.executable, "-c", show], capture_output=True, text=True, env={**base, **env}, timeout=60)
        return done.stdout.strip()

    assert cache_dir(XDG_CACHE_HOME=str(tmp_path)) == str(tmp_path / "tms-sweep" / "jax")
    assert cache_dir(XDG_CACHE_HOME=str(tmp_path), TMS_SWEEP_COMPILE_CACHE="0") == "None"
    assert cache_dir(JAX_COMPILATION_CACHE_DIR=str(tmp_path / "mine")) == str(tmp_path / "mine")
