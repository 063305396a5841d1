"""`hydra/launcher=slurm` (conf/hydra/launcher/slurm.yaml, docs/slurm.md): submitit's SLURM launcher, plus what a cluster needs.

- Before anything is written or submitted, the resources asked for (CPUs, GPUs, memory per task, time) are checked
  against the partition's nodes (`sinfo`): more than any node has is refused in one line naming the key and what the
  partition offers (exit 2), instead of a job that pends forever or an sbatch traceback.
- The launcher waits on the tasks through `squeue` (which needs no accounting database), not submitit's `sacct`
  watcher (which, without accounting, warns on every poll and reads the unknown state as "not done", so it waits
  forever on a task that died). A task that ends without a result is reported in one line (task, state, log) once
  every task has ended; the others' results are kept, and the same command again reruns only what is missing.
  A task pending for a reason that waiting does not clear (sinfo said yes, but e.g. an account limit says no) is
  warned about once.
- In each task, SIGTERM (SLURM's requeue, preemption or scancel; KillWait seconds before SIGKILL) makes training
  write a checkpoint at the end of the chunk of steps in progress and exit, so the requeued task resumes there.
  Submitit's own SIGUSR2 handler (timeout or preemption signal) requeues at once; that task resumes from its last
  checkpoint.
"""
from __future__ import annotations

import logging
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Sequence

from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn
from omegaconf import OmegaConf

try:  # pip install -e '.[slurm]'; without it Hydra's plugin scan must still import this module quietly
    from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf
    from hydra_plugins.hydra_submitit_launcher.submitit_launcher import SlurmLauncher as SubmititSlurmLauncher
except ImportError:
    SubmititSlurmLauncher = None

log = logging.getLogger(__name__)
POLL_S = 5  # seconds between squeue calls
RESULT_GRACE_S = 5  # after a task ends, how long its result file may take to appear (shared file systems lag)
ACTIVE = {"PENDING", "CONFIGURING", "RUNNING", "COMPLETING", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED", "RESIZING",
          "SUSPENDED", "STOPPED", "SIGNALING", "STAGE_OUT", "PREEMPTED"}  # squeue states of a task not yet over
NEVER_CLEARS = {"PartitionConfig", "PartitionNodeLimit", "PartitionTimeLimit", "BadConstraints", "InvalidAccount",
                "InvalidQOS", "QOSMaxCpuPerJobLimit", "QOSMaxGRESPerJob", "QOSMaxMemoryPerJob", "QOSMaxWallDurationPerJobLimit"}


def minutes(limit: str) -> float:
    """sinfo's time limit ("infinite", "MM:SS", "HH:MM:SS", "D-HH:MM:SS") in minutes."""
    if limit in ("infinite", "n/a", ""):
        return float("inf")
    days, _, clock = limit.rpartition("-")
    hours, mins, secs = ([0, 0, 0] + [int(p) for p in clock.split(":")])[-3:]
    return int(days or 0) * 1440 + hours * 60 + mins + secs / 60


def resource_error(params: dict, sinfo_lines: list[str]) -> str | None:
    """What the launcher params ask for beyond every node of their partition, as one line; None if it fits.

    sinfo_lines: `sinfo -h -o %P|%c|%m|%G|%l` (partition, CPUs, memory MB, gres, time limit per node kind)."""
    rows = [line.split("|") for line in sinfo_lines if line.count("|") == 4]
    partitions = sorted({row[0].rstrip("*") for row in rows})
    wanted = params.get("partition")
    name = wanted or next((row[0].rstrip("*") for row in rows if row[0].endswith("*")), None)
    if wanted and wanted not in partitions:
        return f"hydra.launcher.partition={wanted} is not a partition of this cluster (partitions: {', '.join(partitions)})"
    rows = [row for row in rows if row[0].rstrip("*") == name]
    if not rows:
        return None  # no default partition: sbatch says what it wants
    cpus = max(int(row[1].rstrip("+")) for row in rows)
    mem_gb = max(int(row[2].rstrip("+")) for row in rows) / 1024
    gpus = max(sum(int(n) for n in re.findall(r"gpu(?::[^:,(]+)?:(\d+)", row[3])) for row in rows)
    limit = max(minutes(row[4]) for row in rows)
    tasks = params.get("tasks_per_node") or 1
    asked = [("cpus_per_task", (params.get("cpus_per_task") or 1) * tasks, cpus, f"{cpus} CPUs per node"),
             ("gpus_per_node", params.get("gpus_per_node") or 0, gpus,
              f"{gpus} GPUs per node" if gpus else "no GPUs (hydra.launcher.gpus_per_node=0 for CPU nodes)"),
             ("mem_gb", params.get("mem_gb") or 0, mem_gb, f"{mem_gb:.1f} GB per node"),
             ("timeout_min", params.get("timeout_min") or 0, limit, f"a time limit of {limit:g} min")]
    for key, value, offered, what in asked:
        if value > offered:
            times = f" x tasks_per_node={tasks}" if key == "cpus_per_task" and tasks > 1 else ""
            return f"hydra.launcher.{key}={params.get(key)}{times} is more than partition {name} offers: {what}"
    return None


def check_resources(params: dict) -> None:
    """Refuse (one line, exit 2) what no node of the partition offers; skipped where sinfo is absent or fails."""
    if not shutil.which("sinfo"):
        log.info("sinfo not found: the resources asked for are not checked before submitting")
        return
    out = subprocess.run(["sinfo", "-h", "-o", "%P|%c|%m|%G|%l"], capture_output=True, text=True, timeout=60)
    if out.returncode:
        log.warning("sinfo failed (%s): the resources asked for are not checked", out.stderr.strip())
        return
    error = resource_error(params, out.stdout.splitlines())
    if error:
        print(f"config error: {error}", file=sys.stderr)
        sys.exit(2)


def queue_states(job_ids: Sequence[str]) -> dict[str, tuple[str, str]] | None:
    """{task id "123_4": (state, reason)} of the given array tasks still known to squeue; None if squeue failed."""
    arrays = sorted({job_id.split("_")[0] for job_id in job_ids})
    out = subprocess.run(["squeue", "-h", "-r", "--states=all", "-o", "%i|%T|%r", "-j", ",".join(arrays)],
                         capture_output=True, text=True, timeout=60)
    if out.returncode and "Invalid job id" not in out.stderr:  # every job already purged: nothing known
        return None
    return {task: (state, reason) for task, state, reason in
            (line.split("|") for line in out.stdout.splitlines() if line.count("|") == 2)}


def wait(jobs: list, poll_s: float = POLL_S, grace_s: float = RESULT_GRACE_S, tick_s: float = 1) -> dict[int, str]:
    """Wait until every submitit job has a result or has ended without one; {index: state} of the latter.
    Result files are looked for every tick_s, the queue every poll_s."""
    ended_at, last_state, warned, dead = {}, {}, set(), {}
    waiting, asked = set(range(len(jobs))), -float("inf")
    while waiting:
        waiting -= {i for i in waiting if jobs[i].paths.result_pickle.exists()}
        if waiting and time.monotonic() - asked >= poll_s:
            states, asked = queue_states([jobs[i].job_id for i in waiting]), time.monotonic()
            for i in sorted(waiting) if states is not None else ():  # None: squeue failed this time, ask again
                job = jobs[i]
                state, reason = states.get(job.job_id, (last_state.get(i, "RUNNING"), ""))
                if job.job_id not in states and state in ACTIVE:  # purged (MinJobAge after it ended), end unseen
                    state = "gone from the queue"
                last_state[i] = state
                if state in ACTIVE:
                    ended_at.pop(i, None)
                    if state == "PENDING" and reason in NEVER_CLEARS and (i, reason) not in warned:
                        warned.add((i, reason))
                        log.warning("SLURM task %s pends with reason %s, which waiting does not clear (scancel it and "
                                    "ask for less; sinfo, sacctmgr show qos)", job.job_id, reason)
                elif time.monotonic() - ended_at.setdefault(i, time.monotonic()) >= grace_s:
                    dead[i] = state
                    waiting.discard(i)
        if waiting:
            time.sleep(tick_s)
    return dead


class SlurmLauncher(SubmititSlurmLauncher or object):
    def setup(self, **kwargs: Any) -> None:
        check_resources(self.params)  # in setup: before the sweeper writes or submits anything
        super().setup(**kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> JobReturn:
        """In the SLURM task: SIGTERM ends training at the next chunk of steps, with a checkpoint (sweep/train.py)."""
        from sweep.checkpoint import stop_at_next_chunk

        signal.signal(signal.SIGTERM, stop_at_next_chunk)
        return super().__call__(*args, **kwargs)

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        """Submit every job (one array, or a plain job when there is one: submitit's choice), wait, report."""
        import submitit

        init_keys = {"submitit_folder", "max_num_timeout"}
        executor = submitit.AutoExecutor(cluster="slurm", folder=self.params["submitit_folder"],
                                         slurm_max_num_timeout=self.params["max_num_timeout"])
        queue_keys = set(OmegaConf.structured(BaseQueueConf).keys())
        executor.update_parameters(**{k if k in queue_keys else f"slurm_{k}": v
                                      for k, v in self.params.items() if k not in init_keys})
        Path(str(self.config.hydra.sweep.dir)).mkdir(parents=True, exist_ok=True)
        n, state = len(job_overrides), Singleton.get_state()
        nums = range(initial_job_idx, initial_job_idx + n)
        jobs = executor.map_array(self, [list(o) for o in job_overrides], ["hydra.sweep.dir"] * n, list(nums),
                                  [f"job_id_for_{i}" for i in nums], [state] * n)
        log.info("submitted %d job(s) to SLURM as job %s; task logs like %s", n, jobs[0].job_id.split("_")[0],
                 jobs[0].paths.stderr)
        dead = wait(jobs)
        outcomes = [result_or_failure(job, num, dead.get(i)) for i, (num, job) in enumerate(zip(nums, jobs))]
        failed = [line for _, line in outcomes if line]
        if failed:
            print("\n".join(failed), file=sys.stderr)
            sys.exit(1)
        return [result for result, _ in outcomes]


def result_or_failure(job, num: int, dead_state: str | None) -> tuple[JobReturn | None, str | None]:
    """(the task's JobReturn, None), or (None, one line naming the task, how it ended and its log)."""
    from submitit.core.utils import FailedJobError

    if dead_state is not None:
        return None, f"SLURM task {job.job_id} (job {num}) ended {dead_state} without a result; log: {job.paths.stderr}"
    try:
        return job.results()[0], None
    except FailedJobError as error:  # the task's Python raised; submitit puts its traceback between two rules
        trace = str(error).split("-" * 22)[1].strip().splitlines() if "-" * 22 in str(error) else [str(error)]
        return None, f"SLURM task {job.job_id} (job {num}) FAILED: {trace[-1]}; log: {job.paths.stderr}"
