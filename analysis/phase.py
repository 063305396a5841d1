"""Phase of the extra (last) feature in the phase-change experiments, its colour, and agreement.

The paper's colours: white = not learned, blue = dedicated dimension, red = superposition.
A phase is read from the extra feature's norm ||W_extra|| and its superposition
sum_{j != extra} (W_extra_hat . W_j)^2 with the thresholds of PhaseConfig (analysis/config.py).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.aggregate import aggregate
from analysis.config import PhaseConfig

PHASES = ("not_represented", "dedicated", "superposition")
WHITE, BLUE, RED = np.array([1.0, 1.0, 1.0]), np.array([0.16, 0.37, 0.80]), np.array([0.84, 0.15, 0.16])
PHASE_COLOURS = {"not_represented": WHITE, "dedicated": BLUE, "superposition": RED}
# n_features, n_hidden of the paper's phase-change experiments (the theory covers these)
PHASE_SHAPES = ((2, 1), (3, 2))
COLOUR_COLUMNS = ("colour_r", "colour_g", "colour_b")


def classify(norm, superposition, config: PhaseConfig = PhaseConfig()) -> np.ndarray:
    """'not_represented' if norm <= config.norm, else 'superposition' if superposition > config.superposition, else 'dedicated'."""
    norm, superposition = np.asarray(norm, np.float64), np.asarray(superposition, np.float64)
    return np.where(norm <= config.norm, PHASES[0], np.where(superposition > config.superposition, PHASES[2], PHASES[1]))


def colour(norm, superposition, config: PhaseConfig = PhaseConfig()) -> np.ndarray:
    """Continuous RGB (..., 3): white -> (blue -> red by superposition) with saturation by norm."""
    t_norm = np.clip(np.asarray(norm, np.float64) / config.norm_full, 0.0, 1.0)[..., None]
    t_sup = np.clip(np.asarray(superposition, np.float64) / config.superposition_full, 0.0, 1.0)[..., None]
    hue = (1 - t_sup) * BLUE + t_sup * RED
    return (1 - t_norm) * WHITE + t_norm * hue


def phase_colour(phase) -> np.ndarray:
    """RGB (..., 3) of discrete phase labels."""
    return np.stack([PHASE_COLOURS[p] for p in np.asarray(phase).reshape(-1)]).reshape(np.shape(phase) + (3,))


def applies(table: pd.DataFrame) -> bool:
    """Is this a phase-change experiment: importance_kind=extra, (n, m) in PHASE_SHAPES, >= 2 densities and relatives."""
    if not {"importance_kind", "importance_relative"} <= set(table.columns):
        return False
    t = table[table["importance_kind"] == "extra"]
    shapes = set(zip(t["n_features"], t["n_hidden"]))
    if not (len(t) > 0 and len(shapes) == 1 and shapes <= set(PHASE_SHAPES)):
        return False
    models = [c for c in ("run", "model_id") if c in t.columns]
    shared_density = (t.groupby(models)["density"].nunique() == 1).all()  # not data.feature_sparsity
    return bool(shared_density and (t["distribution"] == "uniform").all() and (t["model_kind"] == "relu").all()
                and t["density"].nunique() >= 2 and t["importance_relative"].nunique() >= 2)


def empirical_phases(table: pd.DataFrame, rule: str = "paper", config: PhaseConfig = PhaseConfig()) -> pd.DataFrame:
    """One row per (density, relative, other grid axes) cell: the extra feature's aggregated metrics, phase, colour.

    Columns: every cell column of the extra feature, relative (= importance_relative), norm,
    superposition, loss, n_seeds, phase, and colour_r, colour_g, colour_b (the continuous colour).
    """
    t = table[(table["importance_kind"] == "extra") & (table["feature"] == table["n_features"] - 1)]
    cells = aggregate(t, rule)
    cells["relative"] = cells["importance_relative"]
    cells["phase"] = classify(cells["norm"], cells["superposition"], config)
    rgb = colour(cells["norm"], cells["superposition"], config)
    for k, channel in enumerate(COLOUR_COLUMNS):
        cells[channel] = rgb[:, k]
    return cells


def _key(values) -> list[str]:
    """Cell coordinate to 6 significant digits: the table stores densities after a float32 round trip."""
    return [f"{v:.6g}" for v in np.asarray(values, np.float64)]


def agreement(empirical: pd.DataFrame, theoretical: pd.DataFrame) -> float:
    """Fraction of the empirical cells whose phase equals the theoretical phase at the same (density, relative)."""
    def keyed(table):
        return pd.DataFrame({"density": _key(table["density"]), "relative": _key(table["relative"]), "phase": table["phase"].to_numpy()})

    e, t = keyed(empirical), keyed(theoretical)
    merged = e.merge(t, on=["density", "relative"], suffixes=("_empirical", "_theory"))
    if len(merged) != len(e):
        raise ValueError(f"{len(e) - len(merged)} empirical cell(s) have no theoretical cell at the same density and relative")
    return float((merged["phase_empirical"] == merged["phase_theory"]).mean()) if len(merged) else float("nan")
