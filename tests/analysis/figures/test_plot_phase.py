"""analysis/figures/plot_phase.py contains its data: every cell of every panel in its phase colour, read from the mesh."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.collections import QuadMesh

from analysis import phase
from analysis.config import AnalysisConfig
from analysis.figures.plot_phase import plot_phase


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
