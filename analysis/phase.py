"""Phase of the extra (last) feature in the phase-change experiments: per seed, per cell, against theory.

The paper's colours: white = not learned, blue = dedicated dimension, red = superposition.
A phase is read from the extra feature's norm ||W_extra|| and its superposition
sum_{j != extra} (W_extra_hat . W_j)^2 with the thresholds of PhaseConfig (analysis/classify.py: classify).

Computed once, as tables (figures only draw them):
- `seed_phases`: every trained model's extra feature, classified (seeds are bimodal: never average
  them before classifying);
- `cell_phases`: per cell, the best seed (lowest exact expected loss where the run stored it,
  else lowest evaluated loss) and its phase, the fraction of seeds in each phase, the majority
  phase, and the mean of the seeds' colours (the picture);
- `compare`: the cells beside both theories (the paper's fixed candidates, analysis/theory_paper.py,
  and the optimum over free norms and biases, analysis/theory.py), with how close the seeds came
  to the optimum.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.aggregate import cell_columns, ranking_loss, select_seeds
from analysis.classify import PHASES, classify
from analysis.config import PhaseConfig, TheoryConfig

# the functions mutation testing plants bugs in (tools/mutate.py; the rest is plumbing or messages)
MUTATE_ONLY = ["colour", "phase_colour", "applies", "seed_phases", "_majority", "cell_phases", "agreement"]

WHITE, BLUE, RED = np.array([1.0, 1.0, 1.0]), np.array([0.16, 0.37, 0.80]), np.array([0.84, 0.15, 0.16])
PHASE_COLOURS = {"not_represented": WHITE, "dedicated": BLUE, "superposition": RED}
# n_features, n_hidden of the paper's phase-change experiments (the theory covers these)
PHASE_SHAPES = ((2, 1), (3, 2))
COLOUR_COLUMNS = ("colour_r", "colour_g", "colour_b")
THEORIES = ("paper", "optimal")
AT_OPTIMUM = 0.01  # a seed whose exact loss is within 1% of the optimal theory's loss "reaches the optimum"
PHASE_CELLS = "phase_cells"  # <dir>/phase_cells[_suffix].parquet: `compare` of a run, stored by analysis.figures.plot_run


def colour(norm, superposition, config: PhaseConfig = PhaseConfig()) -> np.ndarray:
    """Continuous RGB (..., 3): white -> (blue -> red by superposition) with saturation by norm.

    A near-zero feature is white whatever its (meaningless) direction says.
    """
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


def seed_phases(table: pd.DataFrame, rule: str = "paper", config: PhaseConfig = PhaseConfig()) -> pd.DataFrame:
    """One row per trained model (diverged ones included, phase NaN): the extra feature's metrics and phase.

    Columns: the cell columns, relative, run/model_id/seed, norm, superposition, loss, rank_loss
    (what seeds are ranked by), status, used (kept by `rule` for the averaged colour), phase,
    and the seed's own colour.
    """
    if "importance_relative" not in table.columns or not (table["importance_kind"] == "extra").any():
        raise ValueError("seed_phases reads the extra (last) feature of importance.kind=extra runs; for the phase of "
                         "every feature of any sweep use analysis.phase.feature_phases(df)")
    marked = select_seeds(table, rule)
    t = marked[(marked["importance_kind"] == "extra") & (marked["feature"] == marked["n_features"] - 1)].copy()
    t["relative"] = t["importance_relative"]
    t["rank_loss"] = ranking_loss(t)
    ok = (t["status"] == "ok").to_numpy()
    t["phase"] = np.where(ok, classify(t["norm"], t["superposition"], config), None)
    rgb = colour(t["norm"], t["superposition"], config)
    for k, channel in enumerate(COLOUR_COLUMNS):
        t[channel] = np.where(ok, rgb[:, k], np.nan)
    return t.reset_index(drop=True)


def feature_phases(table: pd.DataFrame, rule: str = "paper", config: PhaseConfig = PhaseConfig()) -> pd.DataFrame:
    """Any sweep: the table (one row per model and feature) with `used` (kept by the seed `rule`: paper, best, mean)
    and `phase` (not_represented, dedicated, superposition; None for a diverged model) of every feature, read from
    its norm and superposition with PhaseConfig's thresholds (analysis/classify.py)."""
    t = select_seeds(table, rule)
    t["phase"] = np.where(t["status"] == "ok", classify(t["norm"], t["superposition"], config), None)
    return t


def _cell_keys(seeds: pd.DataFrame) -> list[str]:
    """The cell columns that hold a value here (a merged multirun has NaN columns from other groups)."""
    return [c for c in cell_columns(seeds, feature=False) if seeds[c].notna().all()]


def _majority(fractions: pd.DataFrame, best_phase: pd.Series) -> np.ndarray:
    """The most common phase; a tie goes to the best seed's phase if it is among the tied, else PHASES order."""
    values = fractions.to_numpy()
    top = values.max(axis=1, keepdims=True)
    tied = np.isclose(values, top)
    best = np.array([[p == phase for phase in PHASES] for p in best_phase])
    pick = np.where((tied & best).any(axis=1), np.argmax(tied & best, axis=1), np.argmax(tied, axis=1))
    return np.asarray(PHASES, dtype=object)[pick]


def cell_phases(table: pd.DataFrame, rule: str = "paper", config: PhaseConfig = PhaseConfig()) -> pd.DataFrame:
    """One row per (density, relative, other grid axes) cell; see the module docstring.

    Columns: the cell columns, relative, n_seeds (ok seeds), best_seed, best_run, best_model_id,
    best_loss (its rank_loss), ranked_by ('exact_loss' or 'loss'), phase (the best seed's),
    frac_<phase> for each phase, majority, norm and superposition of the best seed, and
    colour_r/g/b: the mean of the colours of the seeds `rule` keeps.
    """
    seeds = seed_phases(table, rule, config)
    keys = _cell_keys(seeds)
    ok = seeds[seeds["status"] == "ok"]
    grouped = ok.groupby(keys, dropna=False, sort=True)
    best = ok.loc[grouped["rank_loss"].idxmin()].set_index(keys)
    cells = pd.DataFrame({"n_seeds": grouped.size()})
    cells["relative"] = best["relative"]
    cells["best_seed"], cells["best_run"] = best["seed"], best["run"] if "run" in best else "."
    cells["best_model_id"], cells["best_loss"] = best["model_id"], best["rank_loss"]
    exact = "exact_loss" in ok and ok["exact_loss"].notna().all()
    cells["ranked_by"] = "exact_loss" if exact else "loss"
    cells["phase"] = best["phase"]
    cells["norm"], cells["superposition"] = best["norm"], best["superposition"]
    for phase in PHASES:
        cells[f"frac_{phase}"] = grouped["phase"].apply(lambda s, p=phase: float((s == p).mean()))
    cells["majority"] = _majority(cells[[f"frac_{p}" for p in PHASES]], cells["phase"])
    colours = ok[ok["used"]].groupby(keys, dropna=False, sort=True)[list(COLOUR_COLUMNS)].mean()
    cells = cells.join(colours)
    return cells.reset_index()


def _key(values) -> list[str]:
    """Cell coordinate to 6 significant digits: the table stores densities after a float32 round trip."""
    return [f"{v:.6g}" for v in np.asarray(values, np.float64)]


def with_theory(cells: pd.DataFrame, theory: pd.DataFrame, name: str) -> pd.DataFrame:
    """cells + phase_<name>, phases_<name>, candidate_<name>, loss_<name> from a theory table on the same (density, relative)."""
    def keyed(table):
        return table.assign(_d=_key(table["density"]), _r=_key(table["relative"]))

    columns = {"phase": f"phase_{name}", "phases": f"phases_{name}", "candidate": f"candidate_{name}",
               "loss": f"loss_{name}"}
    right = keyed(theory)[["_d", "_r", *columns]].rename(columns=columns)
    merged = keyed(cells).merge(right, on=["_d", "_r"], how="left").drop(columns=["_d", "_r"])
    missing = merged[f"phase_{name}"].isna().sum()
    if missing:
        raise ValueError(f"{missing} empirical cell(s) have no {name} theory cell at the same density and relative")
    return merged


def compare(table: pd.DataFrame, rule: str = "paper", config: PhaseConfig = PhaseConfig(),
            theory_config: TheoryConfig = TheoryConfig()) -> pd.DataFrame:
    """`cell_phases` beside both theories, one row per cell.

    Adds phase/candidate/loss_paper and _optimal, best_gap (best seed's exact loss over the optimal
    theory's, minus 1; NaN without exact losses) and frac_at_optimum (seeds within AT_OPTIMUM of it).
    """
    from analysis import theory, theory_paper  # jax: only imported where a phase diagram is compared

    cells = cell_phases(table, rule, config)
    n, m = int(table["n_features"].iloc[0]), int(table["n_hidden"].iloc[0])
    density, relative = np.sort(cells["density"].unique()), np.sort(cells["relative"].unique())
    cells = with_theory(cells, theory_paper.paper_phase_diagram(n, m, density, relative, config), "paper")
    cells = with_theory(cells, theory.phase_diagram(n, m, density, relative, config, theory_config), "optimal")
    exact = cells["ranked_by"] == "exact_loss"
    cells["best_gap"] = np.where(exact, cells["best_loss"] / cells["loss_optimal"] - 1, np.nan)
    seeds = seed_phases(table, rule, config)
    seeds = seeds[seeds["status"] == "ok"]
    keys = _cell_keys(seeds)
    optimum = cells.set_index(keys)["loss_optimal"]
    seeds = seeds.join(optimum, on=keys)
    at_optimum = seeds["rank_loss"] <= seeds["loss_optimal"] * (1 + AT_OPTIMUM)
    reached = at_optimum.groupby([seeds[k] for k in keys], dropna=False).mean()
    cells = cells.join(reached.rename("frac_at_optimum"), on=keys)
    cells.loc[~exact, "frac_at_optimum"] = np.nan
    return cells


def agreement(cells: pd.DataFrame, theory: str = "optimal", empirical: str = "phase") -> float:
    """Fraction of cells whose empirical phase (`phase`: best seed; `majority`) is the theory's phase
    (one of phases_<theory> where relabelling equally important features ties several: `tied_phases`)."""
    if theory not in THEORIES:
        raise ValueError(f"theory={theory!r} is not one of {', '.join(THEORIES)}")
    if not len(cells):
        return float("nan")
    allowed = cells.get(f"phases_{theory}", cells[f"phase_{theory}"])
    return float(np.mean([p in a.split("|") for p, a in zip(cells[empirical], allowed)]))
