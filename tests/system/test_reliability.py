"""Resume after SIGKILL, isolation of diverging models, determinism, refusing to overwrite."""
import os
import signal
import subprocess
import sys
import time

import numpy as np

from sweep.grid import build_grid
from sweep.results import load_run, load_summary, load_weights
from sweep.run import run
from sweep.train import train_grid
from tests.conftest import make_config, run_cli

ARGS = ["sparsity=[0,0.9]", "seed=[0,1]", "steps=6000", "batch_size=256", "exec.log_every=100",
        "exec.checkpoint_every=200", "exec.progress=false", "exec.plots=false"]


def sigkill_when(args, cwd, pattern: str, timeout: float = 180) -> None:
    """Start `python -m sweep.run ARGS` and SIGKILL it as soon as a file matching `pattern` appears."""
    process = subprocess.Popen([sys.executable, "-m", "sweep.run", *args], cwd=cwd, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    deadline = time.time() + timeout
    while not list(cwd.rglob(pattern)) and time.time() < deadline:
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()


def test_sigkill_mid_run_then_same_command_resumes_to_identical_results(tmp_path):
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    killed.mkdir()
    clean.mkdir()
    sigkill_when(ARGS, killed, "checkpoint.npz")
    run_dirs = [p.parent for p in killed.rglob(".hydra")]
    assert len(run_dirs) == 1 and not (run_dirs[0] / "summary.json").exists(), "killed before any checkpoint"
    resumed = run_cli(ARGS, cwd=killed)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming from the checkpoint at step" in resumed.stderr + resumed.stdout
    assert run_cli(ARGS, cwd=clean).returncode == 0
    (resumed_dir,) = [p.parent for p in killed.rglob("summary.json")]
    (clean_dir,) = [p.parent for p in clean.rglob("summary.json")]
    assert load_summary(resumed_dir)["resumed_from_step"] > 0
    for key in ("W", "b"):
        np.testing.assert_array_equal(load_weights(resumed_dir)[key], load_weights(clean_dir)[key])
    assert not (resumed_dir / "checkpoint.npz").exists()


def test_a_complete_run_is_reused_and_never_overwritten_by_another_config(tmp_path):
    small = ["steps=50", "exec.log_every=25", "exec.progress=false", "exec.plots=false", "batch_size=32"]
    assert run_cli(small, cwd=tmp_path).returncode == 0
    (run_dir,) = [p.parent for p in tmp_path.rglob("summary.json")]
    before = (run_dir / "weights.npz").read_bytes()
    again = run_cli(small, cwd=tmp_path)
    assert again.returncode == 0 and "already complete, not retrained" in again.stderr + again.stdout
    other = run_cli([*small, "optim.lr=0.01", f"hydra.run.dir={run_dir}"], cwd=tmp_path)
    assert other.returncode == 2
    assert "holds a complete run of another config" in other.stderr
    assert (run_dir / "weights.npz").read_bytes() == before


def test_a_diverging_model_is_flagged_and_does_not_touch_the_others(tmp_path):
    cfg = make_config(sparsity=0.9, optim={"lr": [1e-3, 1e30, 3e-3]}, steps=300, batch_size=128,
                      exec={"log_every": 100, "progress": False, "plots": False})
    summary = run(cfg, tmp_path, "")
    per_model = load_run(tmp_path).drop_duplicates("model_id").set_index("lr")
    assert per_model.loc[1e30, "status"] == "diverged"
    assert (per_model.drop(index=1e30)["status"] == "ok").all()
    assert summary["diverged_models"] == [int(per_model.loc[1e30, "model_id"])]
    grid = build_grid(cfg)
    weights = load_weights(tmp_path)["W"]
    for i in np.flatnonzero(grid.coords.lr.to_numpy() != 1e30):
        np.testing.assert_allclose(train_grid(cfg, grid.select([i])).W[0], weights[i], atol=1e-5)


def test_same_config_gives_bitwise_identical_results_whatever_the_axis_order():
    a = make_config(sparsity=[0.0, 0.9], seed=[0, 1], steps=200, batch_size=64,
                    exec={"log_every": 100, "progress": False, "plots": False})
    b = make_config(sparsity=[0.9, 0.0], seed=[1, 0], steps=200, batch_size=64,
                    exec={"log_every": 100, "progress": False, "plots": False})
    ga, gb = build_grid(a), build_grid(b)
    wa, wa2, wb = train_grid(a, ga).W, train_grid(a, ga).W, train_grid(b, gb).W
    np.testing.assert_array_equal(wa, wa2)
    key = lambda g: list(zip(g.coords.seed, g.coords.sparsity))  # noqa: E731
    order = [key(gb).index(k) for k in key(ga)]
    np.testing.assert_array_equal(wa, wb[order])


def test_killed_multirun_skips_finished_jobs_and_resumes_the_rest(tmp_path):
    args = ["-m", "model.n_hidden=1,2", "sparsity=0,0.9", "steps=4000", "batch_size=256", "exec.log_every=100",
            "exec.checkpoint_every=200", "exec.progress=false", "exec.plots=false"]
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    killed.mkdir()
    clean.mkdir()
    sigkill_when(args, killed, "1/checkpoint.npz")  # job 1's first checkpoint
    assert len(list(killed.rglob("summary.json"))) == 1, "job 0 should be complete and job 1 not"
    again = run_cli(args, cwd=killed)
    assert again.returncode == 0, again.stderr
    log = again.stdout + again.stderr
    assert "already complete, not retrained" in log and "resuming from the checkpoint at step" in log
    assert run_cli(args, cwd=clean).returncode == 0
    import analysis

    (resumed_dir,) = {p.parent.parent for p in killed.rglob("summary.json")}
    (clean_dir,) = {p.parent.parent for p in clean.rglob("summary.json")}
    assert resumed_dir.name == clean_dir.name  # the same command finds the same sweep dir
    for job in ("0", "1"):
        np.testing.assert_array_equal(load_weights(resumed_dir / job)["W"], load_weights(clean_dir / job)["W"])
    assert len(analysis.load(resumed_dir).drop_duplicates(["run", "model_id"])) == 4
