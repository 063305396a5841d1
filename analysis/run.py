"""One finished run or multirun dir, read once: what an experiment's checks and figures (and `plot_run`) share.

`Run(directory, preset)` reads the results table, the weights, the loss history and the snapshots the first time each
is asked for (analysis/__init__.py: load, load_weights, ...) and keeps them; it picks each cell's lowest-loss seed
once (`best_rows`, `best`: analysis/aggregate.py, rule "best"). Nothing here draws or judges.
"""
from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from analysis import load, load_history, load_snapshots, load_weights, model_weights
from analysis.aggregate import per_model, select_seeds, ties
from analysis.phase import PHASE_CELLS


class Run:
    """A run or multirun dir and, when an experiment reads it, the preset's name (conf/experiment/NAME.yaml)."""

    def __init__(self, directory, preset: str | None = None):
        self.directory = Path(directory)
        self.preset = preset
        self._kept: dict = {}

    @cached_property
    def table(self) -> pd.DataFrame:
        """Model x feature rows of every complete run (NoRunsError if there is none)."""
        return load(self.directory)

    @cached_property
    def weights(self) -> dict:
        return load_weights(self.directory)

    @cached_property
    def history(self) -> pd.DataFrame:
        return load_history(self.directory)

    @cached_property
    def snapshots(self) -> dict:
        return load_snapshots(self.directory)

    @cached_property
    def models(self) -> pd.DataFrame:
        """One row per model, every seed."""
        return per_model(self.table)

    @cached_property
    def best_rows(self) -> pd.DataFrame:
        """The model x feature rows of each cell's lowest-loss seed."""
        marked = select_seeds(self.table, "best")
        return marked[marked["used"]]

    @cached_property
    def best(self) -> pd.DataFrame:
        """One row per cell: its lowest-loss seed."""
        return per_model(self.best_rows)

    @cached_property
    def tied(self) -> pd.DataFrame:
        """One row per model the evaluation cannot tell from its cell's lowest-loss seed (analysis/aggregate.py: ties);
        the lowest-loss seed itself first. A claim read off `best` where `tie_size` > 1 is a pick by noise."""
        return ties(self.table)

    def weights_of(self, row, key: str = "W") -> tuple[np.ndarray, np.ndarray]:
        """(W (m, n), b (n,)) of the model of a table row (key="W2": (W2 (n, m), b) of a model.kind=abs model)."""
        return model_weights(self.weights, row["run"], row["model_id"], key)

    def W(self, row, key: str = "W") -> np.ndarray:
        return self.weights_of(row, key)[0]

    def once(self, compute: Callable[[Run], object]):
        """compute(self), computed at the first call and kept: a reading of the run that several claims share."""
        if compute not in self._kept:
            self._kept[compute] = compute(self)
        return self._kept[compute]

    def phase_cells(self) -> pd.DataFrame:
        """The stored phase comparison (analysis/phase.py: compare), written by analysis.figures.plot_run."""
        return pd.read_parquet(self.directory / f"{PHASE_CELLS}.parquet")

    def setting(self, column: str):
        """A setting every model of the run shares, read from the first row (e.g. n_features, n_hidden)."""
        return self.table[column].iloc[0]
