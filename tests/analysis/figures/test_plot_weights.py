"""Figures contain their data: each figure is drawn from a run whose weights are written by hand, then its
matplotlib artists (mesh colours, bar lengths and colours, points, lines) are read back and compared with the
results table and the hand-written weights. No training: the runs are written with sweep.results."""
from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PathCollection, QuadMesh
from matplotlib.colors import LogNorm

import analysis
from analysis import phase
from analysis.config import AnalysisConfig
from analysis.figures.plot_phase import plot_phase
from analysis.figures.plot_sparsity import plot_loss_curves
from analysis.figures.plot_weights import plot_geometry, plot_weights
from sweep.grid import build_grid
from sweep.results import feature_table, history_table, write_run
from tests.conftest import make_config

# n=3, m=2, densities 1 and 0.1, seeds 0 and 1. Seed 0 holds the solution by hand; seed 1 a tiny W with a large
# positive bias, whose loss is far higher, so it is never the "lowest-loss seed" a figure shows.
DENSE = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])  # two orthogonal features, the third dropped
SPARSE = np.array([[1.0, -0.8, 0.0], [0.0, 0.0, 0.6]])  # an antipodal pair and a dedicated third feature
BAD = np.full((2, 3), 0.01)


def hand_weights(grid):
    W = np.stack([DENSE if d == 1.0 else SPARSE if s == 0 else BAD for d, s in zip(grid.coords.density, grid.coords.seed)])
    b = np.stack([np.array([0.0, 0.0, 0.05]) if s == 0 else np.full(3, 0.9) for s in grid.coords.seed])
    return W, b


@pytest.fixture(scope="module")
def hand_run(tmp_path_factory):
    directory = tmp_path_factory.mktemp("hand_run")
    cfg = make_config(model={"n_features": 3, "n_hidden": 2}, density=[1.0, 0.1], seed=[0, 1], steps=30)
    grid = build_grid(cfg)
    W, b = hand_weights(grid)
    loss = np.where(grid.coords.seed == 0, 0.01, 0.5)
    steps = np.array([9, 19, 29])
    history = np.array([[0.3, 0.2, 0.1, 0.05], [0.2, 0.1, 0.05, 0.02], [0.1, 0.05, 0.02, 0.01]]) * (1 + np.arange(4))
    params = {"W": W, "b": b}
    write_run(directory, feature_table(grid, params, loss), params, history_table(steps, history), "", {"n_models": 4})
    return directory, grid, W, history


def test_weight_bars_gram_and_bias_are_the_best_seeds_weights(hand_run):
    directory, grid, W, _ = hand_run
    table = analysis.load(directory)
    fig = plot_weights(table, analysis.load_weights(directory), AnalysisConfig())
    panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"][:6]  # per density: W^T W, b, bars
    inferno = matplotlib.colormaps["inferno"]
    for column, (density, hand) in enumerate(((1.0, DENSE), (0.1, SPARSE))):
        gram, bias, bars = panels[3 * column: 3 * column + 3]
        assert f"density {density:g}" in gram.get_title(loc="left")
        np.testing.assert_allclose(gram.get_images()[0].get_array(), hand.T @ hand)
        np.testing.assert_allclose(np.asarray(bias.get_images()[0].get_array()).ravel(), [0.0, 0.0, 0.05])
        widths = [p.get_width() for p in bars.patches]
        np.testing.assert_allclose(widths, np.linalg.norm(hand, axis=0))  # ||W_i|| of the lowest-loss seed
        rows = table[(table["density"] == density) & (table["seed"] == 0)].sort_values("feature")
        np.testing.assert_allclose(widths, rows["norm"])
        # colour: superposition sum_{j != i} (W_i_hat . W_j)^2, by hand: dense 0, 0, 0; sparse 0.64, 1, 0
        superposition = [0.0, 0.0, 0.0] if density == 1.0 else [0.64, 1.0, 0.0]
        np.testing.assert_allclose([p.get_facecolor() for p in bars.patches], inferno(superposition), atol=1e-6)


def test_geometry_points_are_the_best_seeds_feature_vectors(hand_run):
    directory, _, _, _ = hand_run
    table = analysis.load(directory)
    fig = plot_geometry(table, analysis.load_weights(directory), AnalysisConfig())
    axes = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"][:2]
    for ax, hand in zip(axes, (DENSE, SPARSE)):
        points = np.concatenate([c.get_offsets() for c in ax.collections if isinstance(c, PathCollection)])
        np.testing.assert_allclose(points, hand.T)
        segments = [line.get_xydata() for line in ax.get_lines()[:3]]  # the feature lines come first, then the axes
        np.testing.assert_allclose([s[0] for s in segments], np.zeros((3, 2)))
        np.testing.assert_allclose([s[1] for s in segments], hand.T)


def test_loss_curves_are_each_models_history(hand_run):
    directory, grid, _, history = hand_run
    table = analysis.load(directory)
    ax = plot_loss_curves(table, analysis.load_history(directory), AnalysisConfig()).axes[0]
    lines = ax.get_lines()
    assert len(lines) == 4
    viridis, norm = matplotlib.colormaps["viridis"], LogNorm(0.1, 1.0)
    for model_id, line in enumerate(lines):  # one line per model, in model order
        np.testing.assert_array_equal(line.get_xdata(), [9, 19, 29])
        np.testing.assert_allclose(line.get_ydata(), history[:, model_id])
        np.testing.assert_allclose(matplotlib.colors.to_rgba(line.get_color()), viridis(norm(grid.coords.density[model_id])))


def phase_cells(colours):
    """A 3 x 2 grid of cells (densities 1, 0.1, 0.01 x relatives 0.5, 2), each with its own phases and mean colour."""
    cells = []
    phases = ("not_represented", "dedicated", "superposition")
    for k, (density, relative) in enumerate((d, r) for d in (1.0, 0.1, 0.01) for r in (0.5, 2.0)):
        cells.append({"density": density, "relative": relative, "lr": 1e-3, "weight_decay": 0.01, "n_seeds": 3,
                      "ranked_by": "exact_loss", "phase": phases[k % 3], "majority": phases[k % 3],
                      "phase_paper": phases[(k + 1) % 3], "phases_paper": phases[(k + 1) % 3],
                      "phase_optimal": phases[(k + 2) % 3], "phases_optimal": phases[(k + 2) % 3],
                      "colour_r": colours[k][0], "colour_g": colours[k][1], "colour_b": colours[k][2]})
    return pd.DataFrame(cells)


def test_phase_figure_draws_every_cell_in_its_phase_colour():
    rng = np.random.default_rng(0)
    cells = phase_cells(rng.uniform(0, 1, (6, 3)))
    table = pd.DataFrame({"n_features": [2], "n_hidden": [1], "importance_kind": ["extra"], "importance_relative": [0.5],
                          "lr": [1e-3], "seed": [0], "model_kind": ["relu"], "distribution": ["uniform"], "steps": [10],
                          "batch_size": [8]})
    fig = plot_phase(cells, table, AnalysisConfig())
    panels = fig.axes[:4]  # seeds averaged | best seed | paper's theory | optimal theory
    expected = [lambda c: c[["colour_r", "colour_g", "colour_b"]].to_numpy(float)] + [
        lambda c, column=column: phase.phase_colour(c[column].to_numpy()) for column in ("phase", "phase_paper", "phase_optimal")]
    for ax, colour_of in zip(panels, expected):
        (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
        corners = mesh.get_coordinates()  # (relatives + 1, densities + 1, 2)
        centres = np.sqrt(corners[:-1, :-1] * corners[1:, 1:]).reshape(-1, 2)  # geometric centre: (density, relative)
        drawn = np.asarray(mesh.get_array()).reshape(-1, 3)  # the RGB array the mesh draws, row by row
        assert len(drawn) == len(cells)
        for (density, relative), rgb in zip(centres, drawn):
            cell = cells[np.isclose(cells["density"], density) & np.isclose(cells["relative"], relative)]
            assert len(cell) == 1, (density, relative)
            np.testing.assert_allclose(rgb, colour_of(cell)[0], atol=1e-6)
    assert "best seed agrees on 0.0%" in panels[2].get_title()  # phases shifted by one: no cell agrees
