"""analysis/figures/plot_sparsity.py contains its data: the loss curves read back are each model's history."""
from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.colors import LogNorm

import analysis
from analysis.config import AnalysisConfig
from analysis.figures.plot_sparsity import plot_loss_curves


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
