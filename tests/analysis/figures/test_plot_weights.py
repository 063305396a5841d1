"""analysis/figures/plot_weights.py contains its data: drawn from a run whose weights are written by hand (conftest.py),
its matplotlib artists (W^T W, bias and norm bars with their colours, geometry points) are read back and compared with
the results table and the hand-written weights. No training."""
from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.collections import PathCollection

import analysis
from analysis.config import AnalysisConfig
from analysis.figures.plot_weights import plot_geometry, plot_weights
from tests.analysis.figures.conftest import DENSE, SPARSE


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
