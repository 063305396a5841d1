"""A real one-node SLURM (Debian's slurm-wlm and munge) started by hand in a temp dir, for the tests.

`start(dir)` writes a slurm.conf for this machine (its CPUs and memory as `slurmd -C` reads them), a munge
key, starts munged, slurmctld and slurmd in the foreground as child processes (no systemd, no pid files
left behind), waits for the node to be idle and returns a Cluster whose `env` points the SLURM commands at
it (SLURM_CONF) and whose `stop()` ends the three daemons by PID. Timers are short (credential expiry,
scheduler interval, kill wait) so that a requeued task runs again within seconds instead of minutes.

Missing packages are installed with apt-get only when `install=True` and this is root; `.ci/run` installs
them beforehand (as it does chromium). `python -m tests.slurm_cluster DIR` starts one and waits (Ctrl-C stops).
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

PACKAGES = ("slurmctld", "slurmd", "slurm-client", "munge")  # Debian 12: slurm-wlm 22.05, munge 0.5.15
COMMANDS = ("slurmctld", "slurmd", "munged", "sbatch", "squeue", "scontrol", "sinfo")
NODE, PARTITION = "node0", "debug"
CONF = """\
ClusterName=tms-test
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={dir}/munge/munge.socket,cred_expire=5
StateSaveLocation={dir}/state
SlurmdSpoolDir={dir}/spool
SlurmctldLogFile={dir}/slurmctld.log
SlurmdLogFile={dir}/slurmd.log
SlurmctldPidFile={dir}/slurmctld.pid
SlurmdPidFile={dir}/slurmd.pid
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
SchedulerParameters=sched_interval=2
MpiDefault=none
ReturnToService=2
KillWait=5
InactiveLimit=0
{node}
PartitionName={partition} Nodes={name} Default=YES MaxTime=INFINITE State=UP
"""


@dataclass
class Cluster:
    dir: Path
    env: dict  # os.environ plus SLURM_CONF
    processes: list = field(default_factory=list)

    def run(self, *command: str, check=True) -> str:
        return subprocess.run(command, env=self.env, capture_output=True, text=True, check=check, timeout=30).stdout

    def stop(self) -> None:
        """Cancel every job (a job's processes outlive slurmd), wait for the queue to empty (at most 30 s), then
        SIGTERM the daemons (slurmd, slurmctld, munged) by PID and SIGKILL whichever is left after 10 s."""
        if len(self.processes) == 3 and all(p.poll() is None for p in self.processes):
            self.run("scancel", "--full", "--user=root", check=False)
            deadline = time.monotonic() + 30
            while self.run("squeue", "-h", check=False).strip() and time.monotonic() < deadline:
                time.sleep(0.5)
        for process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in reversed(self.processes):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def which(command: str) -> str | None:
    """The command's path, looking in /usr/sbin too (daemons live there; a user's PATH may lack it)."""
    return shutil.which(command, path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")


def missing() -> list[str]:
    return [c for c in COMMANDS if not which(c)]


def install() -> None:
    """apt-get install the packages (root only); raises RuntimeError naming what failed."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RuntimeError(f"{', '.join(missing())} not installed (apt-get install {' '.join(PACKAGES)}, as root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *PACKAGES]):
        out = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        if out.returncode:
            raise RuntimeError(f"{' '.join(command)} failed: {(out.stderr or out.stdout).strip().splitlines()[-1:]}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def node_line() -> str:
    """This machine as `slurmd -C` sees it: NodeName=node0 NodeAddr=127.0.0.1 CPUs=.. RealMemory=.."""
    first = subprocess.run([which("slurmd"), "-C"], capture_output=True, text=True, check=True).stdout.splitlines()[0]
    hardware = [item for item in first.split() if not item.startswith("NodeName=")]
    return " ".join([f"NodeName={NODE}", "NodeAddr=127.0.0.1", "NodeHostname=localhost", *hardware, "State=UNKNOWN"])


def start(dir: Path, install_missing: bool = False, timeout: float = 60) -> Cluster:
    """Start munged, slurmctld and slurmd under `dir`; raises RuntimeError (one line) if they do not come up."""
    if missing():
        if not install_missing:
            raise RuntimeError(f"{', '.join(missing())} not installed (apt-get install {' '.join(PACKAGES)})")
        install()
    if os.geteuid() != 0:
        raise RuntimeError("slurmd runs jobs as their user, so it must start as root")
    dir = Path(dir).resolve()
    for sub in ("munge", "state", "spool"):
        (dir / sub).mkdir(parents=True, exist_ok=True)
    for path in (dir, dir / "munge"):  # munged wants its socket's directories searchable by all (so must dir's parents be)
        path.chmod(0o755)
    key = dir / "munge" / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o400)
    conf = dir / "slurm.conf"
    conf.write_text(CONF.format(dir=dir, ctld_port=free_port(), slurmd_port=free_port(), node=node_line(),
                                partition=PARTITION, name=NODE))
    cluster = Cluster(dir, {**os.environ, "SLURM_CONF": str(conf)})
    commands = [
        [which("munged"), "-F", "-f", f"--key-file={key}", f"--socket={dir}/munge/munge.socket",
         f"--pid-file={dir}/munge/munged.pid", f"--log-file={dir}/munge/munged.log", f"--seed-file={dir}/munge/seed"],
        [which("slurmctld"), "-D", "-i", "-f", str(conf)],
        [which("slurmd"), "-D", "-f", str(conf), "-N", NODE],
    ]
    try:
        for command in commands:
            with open(dir / f"{Path(command[0]).name}.out", "w") as out:
                cluster.processes.append(subprocess.Popen(command, env=cluster.env, stdout=out, stderr=subprocess.STDOUT,
                                                          start_new_session=True))
            time.sleep(0.3)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            dead = [Path(c[0]).name for c, p in zip(commands, cluster.processes) if p.poll() is not None]
            if dead:
                tail = (dir / f"{dead[0]}.out").read_text().strip().splitlines()[-1:]
                raise RuntimeError(f"{dead[0]} exited at start ({tail}); logs in {dir}")
            state = subprocess.run(["sinfo", "-h", "-N", "-o", "%T"], env=cluster.env, capture_output=True, text=True)
            if state.stdout.strip() == "idle":
                return cluster
            time.sleep(0.5)
        raise RuntimeError(f"node {NODE} not idle after {timeout:.0f} s; logs in {dir}")
    except BaseException:
        cluster.stop()
        raise


if __name__ == "__main__":
    started = time.perf_counter()
    cluster = start(Path(sys.argv[1]), install_missing=True)
    print(f"SLURM up in {time.perf_counter() - started:.1f} s: export SLURM_CONF={cluster.env['SLURM_CONF']}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        signal.pause()
    except KeyboardInterrupt:
        pass
    finally:
        cluster.stop()
