"""Grid values are stored as the user meant them (issue 24, point 1): equality filters work on both axes."""
import pandas as pd

from sweep.identity import run_name
from tests.conftest import run_cli

TINY = ["steps=20", "exec.log_every=10", "batch_size=16", "exec.plots=false", "exec.progress=false"]


def test_a_float_range_multirun_stores_and_logs_the_values_as_written(tmp_path):
    out = run_cli(["-m", "density=range(0.1,1.01,0.1)", *TINY], cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "0000000" not in out.stdout + out.stderr  # no 0.30000000000000004 / 0.7000000000000001 in the log
    (table,) = tmp_path.glob("outputs/multirun/*/*/results.parquet")
    df = pd.read_parquet(table)
    assert (df.density == 0.3).sum() > 0 and (df.density == 0.7).sum() > 0
    assert sorted(df.density.unique()) == [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]


def test_a_sparsity_run_stores_exact_densities(tmp_path):
    out = run_cli(["sparsity=[0.9,0.99]", *TINY], cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    (table,) = tmp_path.glob("outputs/runs/*/results.parquet")
    df = pd.read_parquet(table)
    assert (df.density == 0.01).sum() > 0 and (df.sparsity == 0.99).sum() > 0 and (df.density == 0.1).sum() > 0


def test_run_names_keep_the_experiment_and_drop_long_floats():
    name = run_name("density=0.5179474679231212,experiment=intro,seed=3")
    assert name.startswith("experiment-intro,density-0.5179,seed-3-".replace(",", "_"))
    assert run_name("density=0.5179474679231212") != run_name("density=0.5179474679231213")  # the hash keeps them apart


def test_a_grid_in_one_value_with_linspace_and_an_unknown_resolver_lists_them(tmp_path):
    out = run_cli(["sparsity=${linspace:0,0.99,4}", *TINY], cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    (table,) = tmp_path.glob("outputs/runs/*/results.parquet")
    assert sorted(pd.read_parquet(table).sparsity.unique()) == [0.0, 0.33, 0.66, 0.99]
    bad = run_cli(["sparsity=${lin:0,0.99,4}", *TINY], cwd=tmp_path / "outputs")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1, bad.stderr
    assert all(name in bad.stderr for name in ("${linspace:", "${geomspace:", "${range:", "${lin:...}"))
