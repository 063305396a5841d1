"""sweep/results.py: the exact expected loss is written only where it is exact (NaN otherwise, never a wrong number)."""
from __future__ import annotations

import numpy as np


def test_exact_loss_only_where_it_is_exact(cfg_factory):
    """Linear models, normal features and n > MAX_FEATURES get NaN, not a wrong number."""
    from sweep.exact import MAX_FEATURES
    from sweep.grid import build_grid
    from sweep.results import exact_losses

    for overrides in ({"model": {"kind": "linear"}}, {"data": {"distribution": "normal"}},
                      {"model": {"n_features": MAX_FEATURES + 1}}):
        grid = build_grid(cfg_factory(**overrides))
        n, m = int(grid.coords["n_features"][0]), int(grid.coords["n_hidden"][0])
        assert np.isnan(exact_losses(grid, np.ones((len(grid), m, n)), np.zeros((len(grid), n)))).all()
    grid = build_grid(cfg_factory(model={"n_features": MAX_FEATURES}))
    assert np.isfinite(exact_losses(grid, np.ones((len(grid), 2, MAX_FEATURES)), np.zeros((len(grid), MAX_FEATURES)))).all()
