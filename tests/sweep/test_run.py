"""sweep.run as a user drives it from a shell (issue 24): Ctrl-C, resume."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

STARTED = []
ARGS = ["steps=2000000", "exec.log_every=100", "batch_size=16", "exec.progress=false", "exec.plots=false"]


@pytest.fixture(autouse=True)
def stop_what_was_started():
    yield
    while STARTED:
        process = STARTED.pop()
        if process.poll() is None:
            process.kill()
            process.wait()


def start(cwd):
    STARTED.append(subprocess.Popen([sys.executable, "-m", "sweep.run", *ARGS], cwd=cwd, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True))
    return STARTED[-1]


def wait_for(cwd, text, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        logs = [p.read_text() for p in cwd.glob("outputs/runs/*/run.log")]
        if any(text in log for log in logs):
            return logs[0]
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not in run.log after {timeout} s")


def interrupt(process):
    time.sleep(3)  # past the compilation: a few chunks trained
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    return process.returncode, err


def test_ctrl_c_says_what_was_kept_and_how_to_resume_and_the_resume_is_announced_when_it_starts(tmp_path):
    first = start(tmp_path)
    wait_for(tmp_path, "training 6 models")
    rc, err = interrupt(first)
    assert rc == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err
    last = err.strip().splitlines()[-1]
    assert last.startswith("interrupted: the checkpoint at step ") and "checkpoint.npz" in last, err
    assert last.endswith("the same command resumes: python -m sweep.run " + " ".join(ARGS)), last
    step = int(last.split("at step ")[1].split()[0].replace(",", ""))
    assert 0 < step < 2_000_000
    second = start(tmp_path)  # the command the line gave: it says it resumes as soon as it starts, not at the end
    log = wait_for(tmp_path, "resuming from the checkpoint")
    assert f"resuming from the checkpoint at step {step} of 2000000" in log
    assert "models in" not in log  # still training
    rc, err = interrupt(second)
    assert rc == 130 and err.strip().splitlines()[-1].startswith("interrupted: the checkpoint at step "), err


def test_an_unwritable_output_dir_is_one_line_exit_2_and_nothing_written(tmp_path):
    from tests.conftest import run_cli

    (tmp_path / "afile").write_text("")  # a file where a dir must go: unwritable even for root
    for args in (["hydra.run.dir=afile/run"], ["-m", "seed=0,1", "hydra.sweep.dir=afile/sweep"],
                 ["hydra.run.dir=/proc/tms-sweep-test"]):
        out = run_cli([*args, "steps=10", "exec.progress=false"], cwd=tmp_path)
        assert out.returncode == 2, out.stderr
        assert out.stderr.strip().count("\n") == 0 and out.stderr.startswith("config error: cannot write "), out.stderr
        assert "hydra.run.dir" in out.stderr
        assert [p.name for p in tmp_path.iterdir()] == ["afile"]


def test_two_processes_on_one_run_dir_one_trains_the_other_is_refused_in_one_line(tmp_path):
    first, second = start(tmp_path), start(tmp_path)  # the same command twice, at once
    deadline = time.monotonic() + 60
    while first.poll() is None and second.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    refused, running = (first, second) if first.poll() is not None else (second, first)
    err = refused.stderr.read()
    assert refused.returncode == 2 and err.count("\n") == 1 and "is in use by another process" in err, err
    assert running.poll() is None  # still training
    log = wait_for(tmp_path, "training 6 models")
    assert log.count("training 6 models") == 1  # run.log holds one process's lines
    rc, _ = interrupt(running)
    assert rc == 130


def test_a_comment_or_docstring_edit_keeps_a_complete_run_a_code_edit_does_not(tmp_path):
    """The user's cycle: run, edit sweep/ (a copy here, first on PYTHONPATH), run the same command again."""
    import shutil

    from tests.conftest import ROOT, run_cli

    code = tmp_path / "code"
    shutil.copytree(ROOT / "sweep", code / "sweep", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "conf", code / "conf")
    work = tmp_path / "work"
    work.mkdir()
    env = {"PYTHONPATH": str(code)}
    args = ["steps=10", "exec.progress=false", "exec.plots=false"]
    first = run_cli(args, cwd=work, env_extra=env)
    assert first.returncode == 0, first.stderr
    grid = code / "sweep" / "grid.py"
    grid.write_text(grid.read_text().replace('"""The grid:', '"""The grid (edited docstring):')
                    + "\n# a comment added by the user\n")
    again = run_cli(args, cwd=work, env_extra=env)
    assert again.returncode == 0 and "already complete, not retrained" in again.stdout + again.stderr, again.stderr
    grid.write_text(grid.read_text() + "\nEDITED = 1\n")
    refused = run_cli(args, cwd=work, env_extra=env)
    assert refused.returncode == 2 and "made by other code" in refused.stderr, refused.stderr  # (so the copy is used)


def test_a_multirun_dry_run_shows_the_sweep_dir_what_is_reused_and_how_long_the_rest_takes(tmp_path, monkeypatch):
    """The time estimate comes from this machine's recorded runs (sweep/timing.py): none before the first run."""
    from sweep import timing
    from tests.conftest import run_cli

    compile_cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "tms-sweep" / "jax"
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache"), "JAX_COMPILATION_CACHE_DIR": str(compile_cache)}
    args = ["-m", "seed=0,1", "steps=300", "exec.progress=false", "exec.plots=false"]
    dry = run_cli([*args, "exec.dry_run=true"], cwd=tmp_path, env_extra=env)
    assert dry.returncode == 0 and "sweep dir outputs/multirun/" in dry.stdout and "0 of 1 job(s) complete" in dry.stdout
    assert "no time estimate: no run recorded on this machine yet" in dry.stdout, dry.stdout
    assert run_cli([*args, "hydra.sweep.dir=sweep"], cwd=tmp_path, env_extra=env).returncode == 0
    dry = run_cli([*args, "model.n_hidden=2,3", "exec.dry_run=true", "hydra.sweep.dir=sweep"], cwd=tmp_path, env_extra=env)
    jobs = [line.strip() for line in dry.stdout.splitlines() if line.strip().startswith("job ")]
    assert jobs[0].endswith(", complete: reused") and "1 of 2 job(s) complete (reused, not retrained)" in dry.stdout
    monkeypatch.setenv("XDG_CACHE_HOME", env["XDG_CACHE_HOME"])
    (recorded,) = timing.recorded()  # the one run: 6 models (the default n=5, m=2) x 2 seeds, batch 1024
    assert recorded["work_per_step"] == 12 * 1024 * 5 * 2 and recorded["steps"] == 300
    seconds, _ = timing.estimate(12 * 1024 * 5 * 3, 300)  # the m=3 job, scaled from that run
    assert seconds > recorded["compile_seconds"] and jobs[1].endswith(f", trains, ~{timing.duration(seconds)}"), jobs
    assert f"the other 1 job(s), one after another: about {timing.duration(seconds)}" in dry.stdout
