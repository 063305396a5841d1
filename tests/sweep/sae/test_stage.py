"""`python -m sweep.sae`: one scores row per SAE beside the run; a bad key is one line, exit 2, nothing written."""
import subprocess
import sys

import pandas as pd
import pytest

from tests.conftest import ROOT, train_run


def sae_cli(*args):
    return subprocess.run([sys.executable, "-m", "sweep.sae", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return train_run(tmp_path_factory.mktemp("run"), {"model": {"n_features": 4, "n_hidden": 2},
                                                      "sparsity": [0.0, 0.9], "seed": [0, 1], "steps": 50})


def test_the_stage_writes_one_row_per_sae_beside_the_run(run):
    done = sae_cli(f"run={run}", "sae.dict_size=[2,6]", "sae.l1=[0.001,0.01,0.1]", "sae.seed=[0,1]", "sae.steps=30",
                   "sae.log_every=10", "sae.progress=false", "sae.select=best")
    assert done.returncode == 0, done.stderr
    scores = pd.read_parquet(run / "sae" / "scores.parquet")
    assert len(scores) == 2 * 2 * 3 * 2  # best seed of 2 cells x 2 sizes x 3 coefficients x 2 SAE seeds
    assert sorted(scores["dict_size"].unique()) == [2, 6] and scores["mmcs"].between(0, 1).all()
    features = pd.read_parquet(run / "sae" / "features.parquet")
    assert len(features) == len(scores) * 4 and (run / "sae" / "sae.json").exists()
    # the same settings again (shown otherwise) reuse the results; another coefficient retrains
    written = (run / "sae" / "scores.parquet").stat().st_mtime_ns
    again = sae_cli(f"run={run}", "sae.dict_size=[2,6]", "sae.l1=[0.001,0.01,0.1]", "sae.seed=[0,1]", "sae.steps=30",
                    "sae.log_every=30", "sae.progress=true", "sae.select=best")
    assert again.returncode == 0 and (run / "sae" / "scores.parquet").stat().st_mtime_ns == written, again.stderr
    other = sae_cli(f"run={run}", "sae.dict_size=[2]", "sae.l1=[0.2]", "sae.steps=30", "sae.progress=false")
    assert other.returncode == 0 and pd.read_parquet(run / "sae" / "scores.parquet")["coeff"].tolist() == [0.2] * 4


@pytest.mark.parametrize("arg, says", [("sae.dict_size=0", "sae.dict_size=0 must be an integer >= 1"),
                                       ("sae.arch=relu", "sae.arch='relu' is not one of l1, topk"),
                                       ("sae.l1=-1", "sae.l1=-1 is outside the allowed range")])
def test_a_bad_key_is_one_line_and_exit_2_with_nothing_written(tmp_path, run, arg, says):
    done = sae_cli(f"run={run}", f"out={tmp_path / 'out'}", arg)
    assert done.returncode == 2 and says in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert not (tmp_path / "out").exists()


def test_a_grid_too_large_for_memory_is_one_line_and_exit_2_with_nothing_written(tmp_path, run):
    done = sae_cli(f"run={run}", f"out={tmp_path / 'out'}", "sae.eval_batch=100000000000", "sae.progress=false")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "config error: the SAE grid needs ~" in done.stderr and "sae.eval_batch=100000000000" in done.stderr
    assert not (tmp_path / "out").exists()
