"""Every figure type is rendered from small saved runs into temp dirs; figures that do not apply are skipped."""
from __future__ import annotations

import subprocess
import sys

import matplotlib.image
import pandas as pd
import pytest

from analysis.figures import plot_run
from tests.conftest import ROOT, run_cli, train_run

ALL_FIGURES = {"phase", "weights", "geometry", "dims_per_feature", "dimensionality", "loss_curves", "diagnostics"}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("multirun")
    phase = train_run(root / "0", {"model": {"n_features": 3, "n_hidden": 2},
                                   "importance": {"kind": "extra", "relative": [0.3, 3.0]},
                                   "density": [1.0, 0.05], "seed": [0, 1], "steps": 600, "exec": {"log_every": 200}})
    plain = root / "nested" / "1"  # through the CLI: the Hydra callback draws its figures when the run ends
    out = run_cli(["model.n_features=5", "model.n_hidden=3", "sparsity=0.9", "steps=200", "exec.log_every=100",
                   "exec.progress=false", f"hydra.run.dir={plain}"], cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return root, phase, plain


def names(paths):
    return {p.stem for p in paths}


def check_files(paths):
    for path in paths:
        assert path.exists() and path.stat().st_size > 0, path
        if path.suffix == ".png":
            image = matplotlib.image.imread(path)
            assert image.ndim == 3 and min(image.shape[:2]) > 100
        elif path.suffix == ".svg":
            assert "<svg" in path.read_text()[:2000]


def test_every_figure_from_a_phase_change_run(runs):
    _, phase, _ = runs
    paths = plot_run(phase)
    check_files(paths)
    figures = [p for p in paths if p.suffix != ".parquet"]
    assert all(p.parent == phase / "figures" for p in figures)
    assert names(p for p in paths if p.suffix == ".png") == ALL_FIGURES
    assert names(p for p in paths if p.suffix == ".svg") == ALL_FIGURES
    cells = pd.read_parquet(phase / "phase_cells.parquet")  # computed once, beside the run; the figure draws it
    phases = {"not_represented", "dedicated", "superposition"}
    assert len(cells) == 4
    for column in ("phase", "majority", "phase_paper", "phase_optimal"):
        assert set(cells[column]) <= phases, column


def test_figures_that_do_not_apply_are_skipped(runs):
    """One density, m=3, geometric importance: no phase diagram, no 2-D geometry, no density sweep plots
    (the diagnostics draw W_i in 3-D).
    This run was trained through the CLI with exec.plots=true, so the callback drew its figures already, all but the
    diagnostics (ON_REQUEST: drawn by analysis.plot)."""
    _, _, plain = runs
    assert {p.stem for p in (plain / "figures").glob("*.png")} == {"weights", "loss_curves"}
    paths = plot_run(plain)
    check_files(paths)
    assert names(paths) == {"weights", "loss_curves", "diagnostics"}


def test_multirun_dir_draws_one_set_per_shape(runs):
    root, _, _ = runs
    paths = plot_run(root)
    check_files(paths)
    stems = names(p for p in paths if p.suffix == ".png")
    assert {"phase_n3_m2_steps600_extra", "geometry_n3_m2_steps600_extra", "weights_n5_m3_steps200_geometric"} <= stems
    assert all(p.parent == root / "figures" for p in paths if p.suffix != ".parquet")
    assert (root / "phase_cells_n3_m2_steps600_extra.parquet").exists()


def test_cli(runs, tmp_path):
    _, _, plain = runs
    done = subprocess.run([sys.executable, "-m", "analysis.plot", str(plain), "--rule", "best"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    printed = done.stdout.split()
    assert len(printed) == 6 and all(line.startswith(str(plain / "figures")) for line in printed)
    bad = subprocess.run([sys.executable, "-m", "analysis.plot", str(tmp_path / "missing")],
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2
    assert bad.stderr.count("\n") == 1 and "missing" in bad.stderr and bad.stdout == ""


def test_a_multirun_draws_one_set_of_figures_at_the_end(tmp_path):
    """Two jobs (n_hidden splits the groups): no per-job figures, one set for the merged sweep dir."""
    sweep_dir = tmp_path / "sweep"
    out = run_cli(["-m", "model.n_hidden=1,2", "sparsity=0,0.9", "steps=100", "exec.log_every=50", "batch_size=64",
                   "exec.progress=false", f"hydra.sweep.dir={sweep_dir}"], cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert not list(sweep_dir.glob("*/figures")), "figures drawn per job"
    stems = {p.stem for p in (sweep_dir / "figures").glob("*.png")}
    assert {"weights_m1", "weights_m2", "dims_per_feature_m1"} <= stems, stems
    assert (sweep_dir / "report.html").exists() and not list(sweep_dir.glob("*/report.html"))  # analysis/report/page.py
    off = run_cli(["-m", "model.n_hidden=1", "sparsity=0,0.9", "steps=100", "exec.log_every=50", "batch_size=64",
                   "exec.progress=false", "exec.plots=false", f"hydra.sweep.dir={tmp_path / 'off'}"], cwd=ROOT)
    assert off.returncode == 0, off.stderr
    assert not list((tmp_path / "off").rglob("figures")) and not list((tmp_path / "off").rglob("report.html"))


def test_dims_per_feature_figure_draws_its_data(tmp_path):
    """The figure's lines hold the table's numbers: m/n, the mean D_i and the mean ||W_i||^2 per density."""
    from analysis import load
    from analysis.config import AnalysisConfig
    from analysis.figures.plot_sparsity import plot_dims_per_feature

    train_run(tmp_path, {"model": {"n_features": 6, "n_hidden": 2}, "sparsity": [0.0, 0.9], "seed": [0, 1], "steps": 150})
    table = load(tmp_path)
    ax = plot_dims_per_feature(table, AnalysisConfig(rule="mean")).axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    floor = next(line for label, line in lines.items() if label.startswith("m/n"))
    assert list(floor.get_ydata()) == [2 / 6, 2 / 6]
    by_density = table.assign(norm_sq=table["norm"] ** 2).groupby("density").mean(numeric_only=True)
    mean_d = lines["mean D$_i$ over features"]
    assert list(1 / mean_d.get_xdata()) == pytest.approx(sorted(by_density.index, reverse=True))
    assert list(mean_d.get_ydata()) == pytest.approx(list(by_density["dimensionality"][::-1]))
    written = [float(t.get_text()) for t in ax.texts if t.get_color() == "C3"]
    assert written == pytest.approx(list(by_density["norm_sq"][::-1]), abs=0.006)
