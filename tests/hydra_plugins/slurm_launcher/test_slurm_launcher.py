"""hydra/launcher=slurm (hydra_plugins/slurm_launcher/) against a real one-node SLURM (the session fixture `slurm`,
tests/slurm_cluster.py): one array for three shapes, requeue and preemption resumed bitwise, a cancelled task reported in
one line, resources refused before submitting. They skip, saying why, where SLURM cannot start."""
import re
import subprocess
import sys
import time

import numpy as np
import pytest

from hydra_plugins.slurm_launcher.slurm_launcher import resource_error, result_or_failure
from sweep.results import is_complete, load_summary
from tests.conftest import ROOT, run_cli
from tests.hydra_plugins.fused_sweeper.test_fused_sweeper import per_model

# 3 shapes (n_hidden) x 2 seeds: 3 jobs of 2 models, ~2 s of training each here, a checkpoint every 1000 of 20000 steps
ARGS = ["model.n_hidden=1,2,3", "seed=0,1", "sparsity=0.9", "steps=20000", "batch_size=64", "exec.log_every=1000",
        "exec.checkpoint_every=1000", "exec.plots=false", "exec.progress=false", "exec.eval_max_batches=32"]
ON_SLURM = ["hydra/launcher=slurm", "hydra.launcher.cpus_per_task=1", "hydra.launcher.mem_gb=1",
            "hydra.launcher.timeout_min=60"]


def start(args, env=None):
    return subprocess.Popen([sys.executable, "-m", "sweep.run", "-m", *args], cwd=ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def training(sweep, task: int, timeout=120) -> str:
    """The SLURM id (123_1) of array task `task`, once its run dir has a checkpoint (it is training)."""
    deadline = time.monotonic() + timeout
    while not (sweep / str(task) / "checkpoint.npz").exists():
        assert time.monotonic() < deadline, f"task {task} wrote no checkpoint in {timeout} s"
        time.sleep(0.05)
    (folder,) = (sweep / ".submitit").glob(f"*_{task}")
    return folder.name


@pytest.fixture(scope="module")
def interrupted(slurm, tmp_path_factory):
    """The first 2 shapes on the basic launcher; all 3 on SLURM, each task interrupted mid-training: task 0 requeued
    (scontrol requeue: SIGTERM), task 1 sent the preemption signal (SIGUSR2), task 2 cancelled (scancel)."""
    reference, sweep = tmp_path_factory.mktemp("reference"), tmp_path_factory.mktemp("slurm")
    basic = start([*ARGS, "model.n_hidden=1,2", f"hydra.sweep.dir={reference}"])
    run = start([*ARGS, *ON_SLURM, f"hydra.sweep.dir={sweep}"], env=slurm.env)
    try:
        slurm.run("scontrol", "requeue", training(sweep, 0))
        slurm.run("scancel", "--signal=USR2", training(sweep, 1))
        slurm.run("scancel", cancelled := training(sweep, 2))
        _, stderr = run.communicate(timeout=150)  # bounded: without the dead-task check it waits forever
        assert basic.wait(timeout=300) == 0, basic.stderr.read()
    finally:
        run.kill()
        basic.kill()
    return reference, sweep, run.returncode, stderr, cancelled


def test_three_shapes_are_one_array_with_the_configured_resources(interrupted):
    sweep, stderr = interrupted[1], interrupted[3]
    (script,) = (sweep / ".submitit").glob("*/*_submission.sh")  # one sbatch call
    flags = [line for line in script.read_text().splitlines() if line.startswith("#SBATCH")]
    for flag in ("--array=0-2%3", "--cpus-per-task=1", "--gpus-per-node=0", "--mem=1GB", "--time=60", "--requeue",
                 "--signal=USR2@120"):
        assert f"#SBATCH {flag}" in flags, flags
    assert "sacct" not in stderr  # no accounting here: the launcher never asks sacct


def test_requeue_and_preemption_resume_from_the_checkpoint_and_end_bitwise(interrupted):
    reference, sweep = interrupted[:2]
    logs = {task: next((sweep / ".submitit").glob(f"*_{task}/*_log.out")).read_text() for task in (0, 1)}
    assert "SIGTERM: stopped at step" in logs[0]  # requeue: checkpoint at the chunk end, exit
    assert re.search(r"Caught signal SIGUSR2 on \S+: this job is preempted", logs[1])  # submitit requeues it
    assert "Requeued job" in logs[1]
    for task in (0, 1):
        assert load_summary(sweep / str(task))["resumed_from_step"] > 0
    expected, got = per_model(reference), per_model(sweep)
    assert sorted(got) == sorted(expected) and len(got) == 4
    for key, (W, b, loss) in got.items():
        np.testing.assert_array_equal(W, expected[key][0])
        np.testing.assert_array_equal(b, expected[key][1])
        np.testing.assert_array_equal(loss, expected[key][2])


def test_a_cancelled_task_ends_the_multirun_in_one_line_and_the_others_are_kept(interrupted):
    _, sweep, returncode, stderr, task = interrupted
    assert returncode == 1, stderr
    lines = [line for line in stderr.splitlines() if line.startswith("SLURM task")]
    assert len(lines) == 1 and stderr.rstrip().endswith(lines[0]), stderr
    match = re.fullmatch(rf"SLURM task {task} \(job 2\) ended CANCELLED without a result; log: (\S+)", lines[0])
    assert match and (sweep / ".submitit" / task / f"{task}_0_log.err").samefile(match.group(1)), lines[0]
    assert is_complete(sweep / "0") and is_complete(sweep / "1") and not is_complete(sweep / "2")


def test_resources_no_node_offers_are_refused_in_one_line_before_anything_is_written(slurm, tmp_path):
    cpus = slurm.run("sinfo", "-h", "-o", "%c").strip()
    out = run_cli(["-m", *ARGS, *ON_SLURM, "hydra.launcher.cpus_per_task=64", f"hydra.sweep.dir={tmp_path / 'sweep'}"],
                  cwd=ROOT, env_extra={"SLURM_CONF": slurm.env["SLURM_CONF"]}, timeout=120)  # unchecked, it pends forever
    assert out.returncode == 2
    assert out.stderr.strip().splitlines()[-1] == ("config error: hydra.launcher.cpus_per_task=64 is more than partition "
                                                   f"debug offers: {cpus} CPUs per node")
    assert not (tmp_path / "sweep").exists()


def test_resource_error_reads_what_sinfo_says():
    sinfo = ["gpu|64|512000|gpu:a100:4(S:0-1)|2-00:00:00", "gpu|32|256000|gpu:2|2-00:00:00", "cpu*|2|8192|(null)|1:00:00"]
    fits = {"cpus_per_task": 2, "tasks_per_node": 1, "gpus_per_node": 0, "mem_gb": 8, "timeout_min": 60}
    assert resource_error(fits, sinfo) is None
    assert resource_error({**fits, "partition": "gpu", "gpus_per_node": 4, "timeout_min": 2880}, sinfo) is None
    assert resource_error({**fits, "gpus_per_node": 1}, sinfo) == (
        "hydra.launcher.gpus_per_node=1 is more than partition cpu offers: no GPUs "
        "(hydra.launcher.gpus_per_node=0 for CPU nodes)")
    assert resource_error({**fits, "partition": "gpu", "gpus_per_node": 8}, sinfo).endswith("offers: 4 GPUs per node")
    assert resource_error({**fits, "mem_gb": 9}, sinfo).endswith("hydra.launcher.mem_gb=9 is more than partition cpu "
                                                                   "offers: 8.0 GB per node")
    assert resource_error({**fits, "timeout_min": 61}, sinfo).endswith("offers: a time limit of 60 min")
    assert resource_error({**fits, "tasks_per_node": 2}, sinfo) == (
        "hydra.launcher.cpus_per_task=2 x tasks_per_node=2 is more than partition cpu offers: 2 CPUs per node")
    assert resource_error({**fits, "partition": "big"}, sinfo) == (
        "hydra.launcher.partition=big is not a partition of this cluster (partitions: cpu, gpu)")


def test_a_task_that_raised_is_one_line_with_its_exception(tmp_path):
    """The launcher's report of a task whose Python raised, on a result written by submitit (its local executor)."""
    import submitit

    job = submitit.LocalExecutor(folder=tmp_path).submit(int, "not a number")
    assert job.exception() is not None  # waits for it
    assert result_or_failure(job, 3, None) == (None, (
        f"SLURM task {job.job_id} (job 3) FAILED: ValueError: invalid literal for int() with base 10: 'not a number'; "
        f"log: {job.paths.stderr}"))
    assert result_or_failure(job, 3, "OUT_OF_MEMORY")[1] == (
        f"SLURM task {job.job_id} (job 3) ended OUT_OF_MEMORY without a result; log: {job.paths.stderr}")


def test_wait_ends_on_dead_and_purged_tasks_and_warns_once_of_a_pend_that_cannot_clear(tmp_path, monkeypatch, caplog):
    """wait() on fake jobs and a scripted squeue: task 0 writes its result; task 1 pends (PartitionConfig: one
    warning), then is cancelled; task 2 leaves the queue (purged) without a result; a failed squeue is asked again."""
    from types import SimpleNamespace

    from hydra_plugins.slurm_launcher import slurm_launcher

    jobs = [SimpleNamespace(job_id=f"9_{i}", paths=SimpleNamespace(result_pickle=tmp_path / f"{i}.pkl")) for i in range(3)]
    script = iter([{"9_0": ("RUNNING", "None"), "9_1": ("PENDING", "PartitionConfig"), "9_2": ("RUNNING", "None")},
                   {"9_1": ("PENDING", "PartitionConfig"), "9_2": ("RUNNING", "None")},
                   None,
                   {"9_1": ("CANCELLED", "None")}])

    calls = []

    def squeue(job_ids):
        calls.append(job_ids)
        assert len(calls) < 20, "wait() does not end"
        jobs[0].paths.result_pickle.touch()
        return next(script, {"9_1": ("CANCELLED", "None")})

    monkeypatch.setattr(slurm_launcher, "queue_states", squeue)
    assert slurm_launcher.wait(jobs, poll_s=0, grace_s=0, tick_s=0) == {1: "CANCELLED", 2: "gone from the queue"}
    assert [r.message for r in caplog.records].count(
        "SLURM task 9_1 pends with reason PartitionConfig, which waiting does not clear (scancel it and ask for less; "
        "sinfo, sacctmgr show qos)") == 1
