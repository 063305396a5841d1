import os
import sys
from pathlib import Path

import pytest

from sweep.config import Config, build

ROOT = Path(__file__).resolve().parents[1]


def make_config(**overrides) -> Config:
    """A validated Config from nested overrides (the same gate `python -m sweep.run` uses)."""
    return build({"exec": {"progress": False, "plots": False}}, overrides)


def train_run(path: Path, overrides: dict) -> Path:
    """A run trained into `path` as `python -m sweep.run` would, without figures or a progress bar."""
    from omegaconf import OmegaConf

    from sweep.run import run

    cfg = make_config(**overrides)
    run(cfg, path, OmegaConf.to_yaml(cfg))
    return path


def flax_init(key, n_features: int, n_hidden: int, untied: bool = False) -> dict:
    """A model's initial parameters as Flax made them before sweep/kinds.py (the reference the hand-written loops
    start from): a module declaring W (m, n), b (n,) and, untied, W2 (n, m), Xavier-normal and zeros."""
    import flax.linen as nn
    import jax.numpy as jnp

    class Params(nn.Module):
        @nn.compact
        def __call__(self, x):
            self.param("W", nn.initializers.xavier_normal(), (n_hidden, n_features))
            self.param("b", nn.initializers.zeros, (n_features,))
            if untied:
                self.param("W2", nn.initializers.xavier_normal(), (n_features, n_hidden))
            return x

    return dict(Params().init(key, jnp.zeros((1, n_features)))["params"])


def run_cli(args, cwd, env_extra=None, timeout=300):
    """`python -m sweep.run ARGS` in a subprocess, as a user would run it."""
    import subprocess

    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "sweep.run", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def cfg_factory():
    return make_config


@pytest.fixture(scope="session")
def slurm():
    """A real one-node SLURM for this session (tests/slurm_cluster.py: apt-installs what is missing where it may,
    starts munged, slurmctld and slurmd in a temp dir, stops them by PID at the end); skips where it cannot start."""
    import shutil
    import tempfile

    from tests import slurm_cluster

    dir = Path(tempfile.mkdtemp(prefix="tms-slurm-"))
    try:
        cluster = slurm_cluster.start(dir, install_missing=True)
    except Exception as error:  # noqa: BLE001 (whatever stops it, the SLURM tests skip saying why; dir keeps the logs)
        pytest.skip(f"no local SLURM: {error}")
    yield cluster
    cluster.stop()
    shutil.rmtree(dir, ignore_errors=True)
