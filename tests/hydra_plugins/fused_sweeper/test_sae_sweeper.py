"""`python -m sweep.sae -m`: sweeps of the stage's fused keys are ONE job whose SAEs equal the SAEs of single runs;
sweeps of other keys are one job each, each writing its own out; a bad value is one line before anything runs."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from hydra.core.override_parser.overrides_parser import OverridesParser

from hydra_plugins.fused_sweeper.fused_sweeper import group_overrides
from hydra_plugins.fused_sweeper.sae_sweeper import FUSED_SAE_KEYS, job_overrides
from tests.conftest import ROOT

TINY = ["synthetic.d=4", "synthetic.n_features=6", "synthetic.mean_active=1", "sae.dict_size=4", "sae.steps=40",
        "sae.log_every=20", "sae.batch_size=64", "sae.eval_batch=256", "sae.lr=0.01", "sae.progress=false"]
SAME = ["sae_seed", "coeff", "mmcs", "recovered", "dead", "l0", "fve", "mse", "loss"]


def sae_cli(*args):
    return subprocess.run([sys.executable, "-m", "sweep.sae", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def plan(*args):
    return group_overrides(OverridesParser.create().parse_overrides(list(args)), FUSED_SAE_KEYS)


def test_fused_keys_become_lists_and_other_keys_split_jobs():
    groups, points = plan("sae.l1=0.01,0.1", "sae.seed=0,1", "sae.arch=l1,topk", "sae.dict_size=4,8", "sae.steps=10")
    assert points == 16 and groups == [["sae.l1=[0.01,0.1]", "sae.seed=[0,1]", "sae.arch=[l1,topk]",
                                        "sae.dict_size=[4,8]", "sae.steps=10"]]
    groups, points = plan("sae.l1=0.01,0.1", "sae.steps=10,20")
    assert points == 4 and groups == [["sae.l1=[0.01,0.1]", "sae.steps=10"], ["sae.l1=[0.01,0.1]", "sae.steps=20"]]
    jobs = job_overrides(groups, Path("SW"))
    assert [job[-1] for job in jobs] == ["out=SW/0", "out=SW/1"]  # several jobs: each its own out
    assert job_overrides(groups[:1], Path("SW")) == groups[:1]  # one job: where the command without -m writes
    assert job_overrides([g + ["out=X"] for g in groups], Path("SW"))[1][-1] == "out=X"  # a given out is kept


def test_a_two_value_sweep_is_one_fused_job_whose_rows_equal_two_single_runs(tmp_path):
    done = sae_cli("-m", "sae.l1=0.01,0.1", "sae.seed=0,3", *TINY, f"out={tmp_path / 'fused'}",
                   f"hydra.sweep.dir={tmp_path / 'sweep'}")
    assert done.returncode == 0, done.stderr
    plan = json.loads((tmp_path / "sweep" / "sweep.json").read_text())
    assert (plan["points"], plan["jobs"]) == (4, 1)
    fused = pd.read_parquet(tmp_path / "fused" / "scores.parquet")
    assert len(fused) == 4 and json.loads((tmp_path / "fused" / "sae.json").read_text())["n_models"] == 4
    for l1, seed in [(0.01, 3), (0.1, 0)]:
        alone = sae_cli(f"sae.l1={l1}", f"sae.seed={seed}", *TINY, f"out={tmp_path / f'{l1}_{seed}'}")
        assert alone.returncode == 0, alone.stderr
        row = pd.read_parquet(tmp_path / f"{l1}_{seed}" / "scores.parquet")[SAME]
        same = fused[(fused["coeff"] == l1) & (fused["sae_seed"] == seed)][SAME]
        np.testing.assert_allclose(same.to_numpy(float), row.to_numpy(float), rtol=1e-5, atol=1e-6)


def test_a_sweep_of_another_key_is_one_job_each_with_its_own_out(tmp_path):
    done = sae_cli("-m", "sae.steps=20,40", *[t for t in TINY if not t.startswith("sae.steps")],
                   f"hydra.sweep.dir={tmp_path / 'sweep'}")
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "sweep" / "sweep.json").read_text())["jobs"] == 2
    steps = [json.loads((tmp_path / "sweep" / str(i) / "sae.json").read_text())["config"]["sae"]["steps"] for i in (0, 1)]
    assert steps == [20, 40]


def test_a_bad_value_is_one_line_before_anything_runs(tmp_path):
    done = sae_cli("-m", "sae.l1=0.01,-1", *TINY, f"out={tmp_path / 'out'}", f"hydra.sweep.dir={tmp_path / 'sweep'}")
    assert done.returncode == 2 and "config error: sae.l1=-1" in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "sweep").exists()
