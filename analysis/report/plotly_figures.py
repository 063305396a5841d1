"""The report page's interactive Plotly figures (analysis/report/page.py embeds them): the phase diagram
beside both theories with each cell's seeds, and dimensions per feature over density."""
from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.aggregate import aggregate
from analysis.config import AnalysisConfig
from analysis.figures.common import REFERENCE_DIMS, log_edges, varying_axes
from analysis.phase import PHASE_COLOURS, PHASES, seed_phases

DENSITY_AXIS = "feature density 1 - S"
RELATIVE_AXIS = "relative importance of the extra feature"


def _rounded(values, digits: int = 4) -> list:
    """Floats to `digits` significant digits (a smaller page), non-finite as None."""
    return [float(f"{v:.{digits}g}") if np.isfinite(v) else None for v in np.asarray(values, np.float64).ravel()]


def _model_index(models: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
    """Position in `models` of each (run, model_id) of `rows`."""
    index = pd.Series(np.arange(len(models)), index=pd.MultiIndex.from_frame(models[["run", "model_id"]]))
    return index[pd.MultiIndex.from_frame(rows[["run", "model_id"]].astype({"model_id": models["model_id"].dtype}))].to_numpy()


PHASE_PANELS = (("phase", "best seed"), ("phase_paper", "the paper's theory"), ("phase_optimal", "the optimal theory"))
CELL_KEYS = ("density", "relative", "lr", "weight_decay")  # what tells the cells of one shape apart


def _phase_scale() -> list:
    """Discrete colour scale for phase codes 0, 1, 2 (z range -0.5 .. 2.5)."""
    scale = []
    for k, phase in enumerate(PHASES):
        rgb = "rgb({},{},{})".format(*(round(255 * c) for c in PHASE_COLOURS[phase]))
        scale += [[k / len(PHASES), rgb], [(k + 1) / len(PHASES), rgb]]
    return scale


def phase_figure(cells: pd.DataFrame, heading: str):
    """Best seed | paper's theory | optimal theory; each cell's hover text from `cells`, its row position last in customdata."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    density, relative = np.sort(cells["density"].unique()), np.sort(cells["relative"].unique())
    col, row = np.searchsorted(density, cells["density"]), np.searchsorted(relative, cells["relative"])
    exact = (cells["ranked_by"] == "exact_loss").all()
    hover = pd.DataFrame({
        "density": cells["density"], "relative": cells["relative"],
        **{c: cells[c].str.replace("_", " ") for c in ("phase", "phase_paper", "phase_optimal")},
        "seed": cells["best_seed"], "loss": cells["best_loss"], "optimum": cells["loss_optimal"],
        "gap": cells["best_gap"], **{p: cells[f"frac_{p}"] for p in PHASES}, "n_seeds": cells["n_seeds"],
        "cell": np.arange(len(cells)),
    })
    custom = np.full((len(relative), len(density), hover.shape[1]), None, dtype=object)
    custom[row, col] = hover.apply(lambda c: _rounded(c, 5) if c.dtype.kind == "f" else c).to_numpy(dtype=object)
    loss = ("exact loss %{customdata[6]:.5g} vs optimum %{customdata[7]:.5g} (%{customdata[8]:+.2%})" if exact
            else "evaluated loss %{customdata[6]:.5g}; optimum %{customdata[7]:.5g}")
    template = ("density %{customdata[0]:.4g}, relative importance %{customdata[1]:.4g}<br>"
                "best seed (seed %{customdata[5]}): <b>%{customdata[2]}</b>, " + loss + "<br>"
                "seeds: not represented %{customdata[9]:.0%}, dedicated %{customdata[10]:.0%}, "
                "superposition %{customdata[11]:.0%} of %{customdata[12]}<br>"
                "theory: paper %{customdata[3]}, optimal %{customdata[4]}<extra></extra>")
    fig = make_subplots(1, len(PHASE_PANELS), shared_yaxes=True, horizontal_spacing=0.03,
                        subplot_titles=[name for _, name in PHASE_PANELS])
    code = {p: k for k, p in enumerate(PHASES)}
    for k, (column, _) in enumerate(PHASE_PANELS):
        z = np.full((len(relative), len(density)), np.nan)
        z[row, col] = cells[column].map(code).to_numpy(np.float64)
        fig.add_trace(go.Heatmap(
            x=log_edges(density), y=log_edges(relative), z=z, zmin=-0.5, zmax=len(PHASES) - 0.5,
            colorscale=_phase_scale(), customdata=custom, hovertemplate=template, hoverongaps=False,
            xgap=0.5, ygap=0.5, name=column, showscale=k == 0,
            colorbar={"tickvals": list(range(len(PHASES))), "ticktext": [p.replace("_", " ") for p in PHASES],
                      "outlinewidth": 1, "len": 0.6}), 1, k + 1)
    fig.update_xaxes(type="log", autorange="reversed", dtick="D2", title_text=DENSITY_AXIS)
    fig.update_yaxes(type="log", dtick="D2")
    fig.update_yaxes(title_text=RELATIVE_AXIS, col=1)
    fig.update_layout(title={"text": heading, "font": {"size": 13}}, height=430, plot_bgcolor="rgb(217,217,217)",
                      margin={"t": 80, "b": 50}, hoverlabel={"align": "left"})
    return fig


def phase_data(cells: pd.DataFrame, group: pd.DataFrame, models: pd.DataFrame, config: AnalysisConfig) -> list[dict]:
    """Per cell of `cells` (row order): its optimum, best model and every ok seed as [seed, phase code, loss, model]."""
    seeds = seed_phases(group, config.rule, config.phase)
    seeds = seeds[seeds["status"] == "ok"].copy()
    keys = list(CELL_KEYS)
    seeds = seeds.merge(cells[keys].assign(_cell=np.arange(len(cells))), on=keys, how="inner")
    seeds["_model"] = _model_index(models, seeds)
    seeds["_code"] = seeds["phase"].map({p: k for k, p in enumerate(PHASES)})
    seeds = seeds.sort_values(["_cell", "rank_loss"])
    best = _model_index(models, cells.rename(columns={"best_run": "run", "best_model_id": "model_id"}))
    out = [{"best": int(b), "optimum": o, "seeds": []} for b, o in zip(best, _rounded(cells["loss_optimal"], 8))]
    losses = _rounded(seeds["rank_loss"], 8)
    for cell, seed, code, loss, model in zip(seeds["_cell"], seeds["seed"], seeds["_code"], losses, seeds["_model"]):
        out[cell]["seeds"].append([int(seed), int(code), loss, int(model)])
    return out


def dims_figure(group: pd.DataFrame, models: pd.DataFrame, config: AnalysisConfig):
    """m / ||W||_F^2 of every ok model against 1/(1-S); customdata[0] is the model's position in `models`.
    None if < 2 densities."""
    import plotly.graph_objects as go

    if models["density"].isna().any() or models["density"].nunique() < 2:
        return None
    axes = varying_axes(models)
    custom = np.column_stack([np.arange(len(models)), models[["seed", "density", "loss", *axes]]]).astype(np.float32)
    extra = "".join(f"<br>{a.removeprefix('importance_')} %{{customdata[{4 + k}]:.4g}}" for k, a in enumerate(axes))
    fig = go.Figure(go.Scatter(
        x=(1 / models["density"]).to_numpy(np.float32), y=models["dims_per_feature"].to_numpy(np.float32),
        mode="markers", name="every model",
        marker={"size": 5, "opacity": 0.5, "color": "rgb(77,77,77)"}, customdata=custom,
        hovertemplate=("seed %{customdata[1]:.0f}, density %{customdata[2]:.4g}" + extra +
                       "<br>dims per feature %{y:.4f}, loss %{customdata[3]:.4g}<extra></extra>")))
    cells = aggregate(group[group["feature"] == 0], config.rule)
    combos = cells.groupby(axes) if axes else [((), cells)]
    if len(combos) <= 8:
        for combo, line in combos:
            line = line.sort_values("density", ascending=False)
            label = ", ".join(f"{a.removeprefix('importance_')}={v:.3g}" for a, v in zip(axes, np.atleast_1d(combo)))
            fig.add_trace(go.Scatter(x=1 / line["density"], y=line["dims_per_feature"], mode="lines+markers",
                                     name=f"{config.rule} over seeds {label}".strip(), hoverinfo="skip"))
    for value, text in REFERENCE_DIMS:
        fig.add_hline(y=value, line={"dash": "dot", "color": "rgb(153,153,153)", "width": 1},
                      annotation_text=text, annotation_position="right")
    fig.update_xaxes(type="log", dtick="D2", title_text="1 / (1 - S)   (inverse feature density)")
    fig.update_yaxes(range=[0, max(1.15, 1.05 * models["dims_per_feature"].max())],
                     title_text="dimensions per feature  m / ||W||_F^2")
    fig.update_layout(title={"text": "Dimensions per feature, every model (hover a point for its W^T W)", "font": {"size": 13}},
                      height=430, margin={"t": 60}, legend={"font": {"size": 10}})
    return fig


# ----------------------------------------------------------------------------- the page
