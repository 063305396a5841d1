"""The fused sweeper: a Hydra multirun is one compiled program per array shape, chunked to fit,
and every model of the merged table is the model trained alone."""
import json

import numpy as np
import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException

import analysis
from hydra_plugins.fused_sweeper.fused_sweeper import group_overrides
from sweep.grid import FUSED_AXES, build_grid
from sweep.results import load_weights
from sweep.train import train_grid
from tests.conftest import ROOT, make_config, run_cli
from tests.sweep.test_grid import README_FUSED

TINY = ["steps=200", "exec.log_every=100", "batch_size=64", "exec.plots=false", "exec.progress=false",
        "exec.eval_max_batches=32"]  # a fixed evaluation count, so losses compare exactly
# 2 sparsities x 2 seeds fuse; n_hidden splits 2 groups; at most 3 models a job: 2 chunks each.
SWEEP = ["sparsity=0,0.9", "seed=range(0,2)", "model.n_hidden=1,2", *TINY, "hydra.sweeper.max_models_per_chunk=3"]
COORDS = ["n_hidden", "sparsity", "seed"]


def plan(*args):
    return group_overrides(OverridesParser.create().parse_overrides(list(args)), FUSED_AXES)


def test_issue_sweep_is_one_group():
    groups, points = plan("sparsity=0,0.7,0.9,0.97,0.99,0.997,0.999", "importance.decay=0.7,0.9", "seed=0,1,2")
    assert points == 42
    assert groups == [["sparsity=[0,0.7,0.9,0.97,0.99,0.997,0.999]", "importance.decay=[0.7,0.9]", "seed=[0,1,2]",
                       "density=null"]]


def test_shape_axes_split_groups_and_fused_axes_do_not():
    groups, points = plan("model.n_hidden=2,3", "seed=range(0,3)", "batch_size=choice(64,128)", "optim.lr=1e-3")
    assert points == 12
    assert groups == [[f"model.n_hidden={m}", "seed=[0,1,2]", f"batch_size={b}", "optim.lr=0.001"]
                      for m in (2, 3) for b in (64, 128)]


def test_prefixes_lists_and_density():
    groups, points = plan("+seed=0,1", "density=[1,0.5],[0.5,0.1]", "importance.relative=0.5")
    assert points == 4
    # list-valued sweep values are spliced into one axis, repeats dropped; density nulls sparsity
    assert groups == [["+seed=[0,1]", "density=[1,0.5,0.1]", "importance.relative=0.5", "sparsity=null"]]


def test_explicit_null_density_axis_is_left_alone():
    groups, _ = plan("sparsity=null", "seed=0,1")
    assert groups == [["sparsity=null", "seed=[0,1]"]]


def test_unsupported_sweeps_are_refused():
    with pytest.raises(HydraException, match="INTERVAL_SWEEP"):
        plan("optim.lr=interval(0.001,0.01)")
    with pytest.raises(HydraException, match="max_models_per_chunk"):
        plan("seed=0,1", "exec.n_chunks=2")


def test_glob_and_memory_budget_in_dry_run(tmp_path):
    """Config-group globs expand into groups; a small memory budget splits a group into chunks."""
    out = run_cli(["-m", "experiment=glob(phase_*)", "seed=0,1", "hydra.sweeper.dry_run=true",
                   "hydra.sweeper.memory_gb=0.01", f"hydra.sweep.dir={tmp_path}"], cwd=ROOT)
    assert out.returncode == 0, out.stderr
    sweep = json.loads((tmp_path / "sweep.json").read_text())
    assert [g["overrides"][0] for g in sweep["plan"]] == ["experiment=phase_n2", "experiment=phase_n3"]
    assert sweep["points"] == 4 and sweep["models"] == 2 * 40 * 40 * 2
    for group in sweep["plan"]:
        size = min(group["models_per_chunk"], 0.01 * 2**30 // group["bytes_per_model"])
        assert group["models_per_chunk"] == size
        assert len(group["jobs"]) == -(-group["n_models"] // size)
        assert sum(job["n_models"] for job in group["jobs"]) == group["n_models"]
    assert sweep["jobs"] == sweep["compiled_programs"] == sum(len(g["jobs"]) for g in sweep["plan"])
    assert not any(p.is_dir() for p in tmp_path.iterdir())  # nothing launched


def test_sweep_params_of_an_experiment(tmp_path):
    """conf/experiment/basic.yaml sweeps model.kind=linear,relu through hydra.sweeper.params."""
    out = run_cli(["-m", "experiment=basic", "seed=0,1", "hydra.sweeper.dry_run=true", f"hydra.sweep.dir={tmp_path}"],
                  cwd=ROOT)
    assert out.returncode == 0, out.stderr
    sweep = json.loads((tmp_path / "sweep.json").read_text())
    assert [g["overrides"] for g in sweep["plan"]] == [[f"model.kind={kind}", "experiment=basic", "seed=[0,1]"]
                                                      for kind in ("linear", "relu")]
    assert (sweep["points"], sweep["models"]) == (4, 2 * 7 * 2)


def test_bad_value_is_one_line_before_anything_runs(tmp_path):
    out = run_cli(["-m", "sparsity=0,1.5", f"hydra.sweep.dir={tmp_path / 'sweep'}"], cwd=ROOT)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines()[-1].startswith("config error: sparsity=1.5 is outside the allowed range")
    assert not (tmp_path / "sweep").exists()


def per_model(sweep_dir) -> dict:
    """{(n_hidden, sparsity, seed): (W, b, loss)} from the merged table of a multirun."""
    table = analysis.load(sweep_dir).drop_duplicates(["run", "model_id"])
    weights = {run: load_weights(sweep_dir / run) for run in table["run"].unique()}
    return {tuple(getattr(row, c) for c in COORDS): (weights[row.run]["W"][row.model_id], weights[row.run]["b"][row.model_id],
                                            row.loss) for row in table.itertuples()}


@pytest.fixture(scope="module")
def multirun(tmp_path_factory):
    sweep_dir = tmp_path_factory.mktemp("multirun")
    out = run_cli(["-m", *SWEEP, f"hydra.sweep.dir={sweep_dir}"], cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return sweep_dir


def test_multirun_is_one_program_per_shape_and_chunk(multirun):
    sweep = json.loads((multirun / "sweep.json").read_text())
    assert (sweep["points"], sweep["models"], sweep["groups"], sweep["jobs"]) == (8, 8, 2, 4)
    assert [[j["n_models"] for j in g["jobs"]] for g in sweep["plan"]] == [[2, 2], [2, 2]]
    table = analysis.load(multirun)
    assert table["run"].nunique() == 4
    assert len(table.drop_duplicates(["run", "model_id"])) == 8
    assert sorted(per_model(multirun)) == sorted((m, s, seed) for m in (1, 2) for s in (0.0, 0.9) for seed in (0, 1))


def test_every_model_equals_the_model_trained_alone(multirun):
    for (n_hidden, sparsity, seed), (W, b, loss) in per_model(multirun).items():
        cfg = make_config(model={"n_hidden": int(n_hidden)}, sparsity=float(sparsity), seed=int(seed),
                          steps=200, batch_size=64, exec={"log_every": 100, "eval_max_batches": 32})
        alone = train_grid(cfg, build_grid(cfg))
        np.testing.assert_allclose(W, alone.W[0], atol=1e-5)
        np.testing.assert_allclose(b, alone.b[0], atol=1e-5)
        np.testing.assert_allclose(loss, alone.final_loss[0], atol=1e-5)


def test_joblib_launcher_gives_the_same_models(multirun, tmp_path):
    out = run_cli(["-m", *SWEEP, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", f"hydra.sweep.dir={tmp_path}"],
                  cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "Joblib" in out.stdout + out.stderr
    reference, parallel = per_model(multirun), per_model(tmp_path)
    assert sorted(parallel) == sorted(reference)
    for key, (W, b, loss) in parallel.items():
        np.testing.assert_allclose(W, reference[key][0], atol=1e-6)
        np.testing.assert_allclose(loss, reference[key][2], atol=1e-6)


def test_submitit_local_runs_every_chunk_in_its_own_process_with_the_same_models(multirun, tmp_path):
    """hydra/launcher=submitit_local: the n_hidden=1 group's 2 chunks run as 2 separate processes; their
    models are the single-process multirun's, bitwise (same chunks, same device count)."""
    args = [a.replace("model.n_hidden=1,2", "model.n_hidden=1") for a in SWEEP]
    out = run_cli(["-m", *args, "hydra/launcher=submitit_local", f"hydra.sweep.dir={tmp_path}"], cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert len(list((tmp_path / ".submitit").glob("*/*_result.pkl"))) == 2  # 2 processes, one result each
    reference, separate = per_model(multirun), per_model(tmp_path)
    assert sorted(separate) == sorted(key for key in reference if key[0] == 1)
    for key, (W, b, loss) in separate.items():
        np.testing.assert_array_equal(W, reference[key][0])
        np.testing.assert_array_equal(b, reference[key][1])
        np.testing.assert_array_equal(loss, reference[key][2])


def test_dry_run_prints_the_plan_and_compiles_and_writes_nothing(tmp_path):
    """exec.dry_run=true: groups, jobs, models and memory per job on stdout; JAX_PLATFORMS names no
    platform, so starting JAX (to compile anything) would fail."""
    out = run_cli(["-m", "experiment=glob(phase_*)", "seed=0,1", "exec.dry_run=true", "hydra.sweeper.memory_gb=0.01",
                   f"hydra.sweep.dir={tmp_path / 'sweep'}"], cwd=tmp_path, env_extra={"JAX_PLATFORMS": "no_such_platform"})
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("dry run: 4 points -> 6,400 models in 2 group(s), ")
    assert lines[0].endswith("compiled program(s); nothing compiled or written")
    assert [line.split(":")[0] for line in lines if line.startswith("group")] == ["group 0", "group 1"]
    jobs = [line for line in lines if line.strip().startswith("job ")]
    assert len(jobs) == int(lines[0].split(" job(s)")[0].rsplit(" ", 1)[1]) and all(" MB, trains" in j for j in jobs)
    assert list(tmp_path.iterdir()) == []


def test_dry_run_of_a_single_run_names_its_state_and_leaves_the_dir_as_it_was(tmp_path):
    from sweep.run import run

    args = ["steps=20", "batch_size=16", "exec.log_every=10", f"hydra.run.dir={tmp_path / 'run'}"]
    out = run_cli([*args, "exec.dry_run=true"], cwd=tmp_path, env_extra={"JAX_PLATFORMS": "no_such_platform"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("dry run: 6 models (n=5, m=2, relu, batch 16, 20 steps) in 1 compiled program")
    assert "would train" in out.stdout and list(tmp_path.iterdir()) == []
    run(make_config(steps=20, batch_size=16, exec={"log_every": 10}), tmp_path / "run", "")
    before = {p: p.stat().st_mtime_ns for p in (tmp_path / "run").rglob("*")}
    out = run_cli([*args, "exec.dry_run=true"], cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "complete: would be reused" in out.stdout
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "run").rglob("*")} == before


@pytest.mark.parametrize("key", README_FUSED)
def test_sweeper(key):
    """Each fused key's sweep is one list override: one group, as many points as values."""
    values = "0,1,2" if key == "seed" else "0.5,0.25,0.125"
    groups, points = plan(f"{key}={values}", "model.n_hidden=1,2")
    assert points == 6 and len(groups) == 2
    listed = f"{key}=[{values}]"
    assert all(listed in g for g in groups), groups
    other = {"sparsity": "density=null", "density": "sparsity=null"}.get(key)
    assert all((other in g) == (other is not None) for g in groups) if other else True
    if key in ("sparsity", "density"):
        assert all(other in g for g in groups)
    # repeated values across list items are kept once; a plain value stays a plain override
    groups, points = plan(f"{key}=[0,1],[1,0]" if key == "seed" else f"{key}=[0.5,0.25],[0.25,0.1]")
    assert points == 2 and len(groups) == 1
    assert groups[0][0] == (f"{key}=[0,1]" if key == "seed" else f"{key}=[0.5,0.25,0.1]")
    assert plan(f"{key}=1")[0][0][0] == f"{key}=1"


def test_sweeper_nulls_only_a_density_key_that_is_set():
    assert plan("sparsity=null", "seed=0,1")[0] == [["sparsity=null", "seed=[0,1]"]]
    assert plan("density=null")[0] == [["density=null"]]
    assert plan("sparsity=0.5")[0] == [["sparsity=0.5", "density=null"]]  # a plain value sets the density too
    assert plan("density=0.5", "seed=0,1")[0] == [["density=0.5", "seed=[0,1]", "sparsity=null"]]
    assert plan("sparsity=0.5", "density=null")[0] == [["sparsity=0.5", "density=null"]]


def test_a_dry_run_says_what_each_job_dir_holds(tmp_path):
    from hydra_plugins.fused_sweeper.fused_sweeper import job_states

    plan = {"plan": [{"jobs": [{"num": 0, "steps": 100}, {"num": 1, "steps": 100}, {"num": 2, "steps": 100}]}]}
    (tmp_path / "0").mkdir()
    (tmp_path / "0" / "summary.json").write_text("{}")
    (tmp_path / "1").mkdir()
    np.savez(tmp_path / "1" / "checkpoint.npz", next_step=40)
    assert job_states(plan, tmp_path) == {0: ("complete: reused", 0), 1: ("checkpoint at step 40: resumes", 60),
                                          2: ("trains", 100)}
