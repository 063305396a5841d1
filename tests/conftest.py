import os
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from sweep.config import Config

ROOT = Path(__file__).resolve().parents[1]


def make_config(**overrides) -> Config:
    """A validated Config from nested overrides (the same gate `python -m sweep.run` uses)."""
    base = {"exec": {"progress": False, "plots": False}}
    merged = OmegaConf.merge(OmegaConf.structured(Config), base, overrides)
    return OmegaConf.to_object(merged)


def run_cli(args, cwd, env_extra=None, timeout=300):
    """`python -m sweep.run ARGS` in a subprocess, as a user would run it."""
    import subprocess

    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "sweep.run", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture
def cfg_factory():
    return make_config
