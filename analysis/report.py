"""One self-contained HTML page per run or multirun: `python -m analysis.report DIR` -> DIR/report.html.

The page opens offline in any browser: its one script library (plotly.js) and every number it
draws are embedded. It shows what was run (the command's overrides, grid sizes, steps, training
time, model-steps/s, devices, diverged models), then per shape every figure `plot_run` drew (its
PNG, embedded) and interactive versions of two of them:

- phase-change runs: the best seed's phase beside both theories, drawn from the stored
  phase_cells*.parquet (the theory is not recomputed). Hover a cell: density, relative importance,
  the best seed's phase and exact loss against the optimum, the fraction of seeds in each phase.
  Click it: its seeds, and the best model (2-D geometry for m <= 2, W^T W and b); click a seed
  for its own model.
- density sweeps: dimensions per feature of every model; hover a point for its W^T W and b.

The Hydra callback (analysis/callbacks.py) writes it after the figures when a run or multirun
ends. Why plotly, and the page's size: docs/report.md.
"""
from __future__ import annotations

import argparse
import base64
import datetime
import html
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from analysis import NoRunsError, find_runs, load, load_weights
from analysis.aggregate import aggregate
from analysis.config import AnalysisConfig
from analysis.figure import (
    REFERENCE_DIMS,
    log_edges,
    models_table,
    title,
    varying_axes,
    with_run,
)
from analysis.phase import PHASE_COLOURS, PHASES, seed_phases
from analysis.plot import FIGURES_DIR, PHASE_CELLS, plot_run, shape_groups
from sweep.results import load_summary, write_atomically

REPORT = "report.html"
SCRIPT = Path(__file__).with_name("report.js")  # the page's own script: draws the figures, answers hover and click
FIGURES = {  # the PNGs plot_run draws, in page order, with a caption
    "phase": "Phase of the extra feature: seeds averaged, best seed, the paper's and the optimal theory",
    "weights": "W^T W, b and ||W_i|| (coloured by superposition) of the lowest-loss seed per cell",
    "geometry": "Columns W_i of W in the plane (m = 2), lowest-loss seed per cell",
    "dims_per_feature": "Dimensions per feature m / ||W||_F^2 against 1/(1-S)",
    "dimensionality": "Feature dimensionality D_i of represented features",
    "loss_curves": "Training loss curves",
}
MAX_WEIGHTS = 2_000_000  # W and b values embedded per shape (all ok models); above this hover and click show numbers only
PLOT_CONFIG = {"displaylogo": False, "responsive": True}
DENSITY_AXIS = "feature density 1 - S"
RELATIVE_AXIS = "relative importance of the extra feature"


def _rounded(values, digits: int = 4) -> list:
    """Floats to `digits` significant digits (a smaller page), non-finite as None."""
    return [float(f"{v:.{digits}g}") if np.isfinite(v) else None for v in np.asarray(values, np.float64).ravel()]


def _float32(values) -> str:
    """Base64 of little-endian float32 values (a third of the size of JSON text); report.js decodes it."""
    return base64.b64encode(np.asarray(values, "<f4").tobytes()).decode("ascii")


def _figure_json(fig) -> dict:
    import plotly.io as pio

    return json.loads(pio.to_json(fig))


# ----------------------------------------------------------------------------- what was run


def _overrides(root: Path) -> str:
    """The command line, from the multirun's plan (sweep.json), Hydra's multirun.yaml or the run's overrides.yaml."""
    if (root / "sweep.json").exists():
        return "python -m sweep.run -m " + " ".join(json.loads((root / "sweep.json").read_text())["arguments"])
    if (root / "multirun.yaml").exists():
        task = yaml.safe_load((root / "multirun.yaml").read_text())["hydra"]["overrides"]["task"]
        return "python -m sweep.run -m " + " ".join(task)
    if (root / ".hydra" / "overrides.yaml").exists():
        return "python -m sweep.run " + " ".join(yaml.safe_load((root / ".hydra" / "overrides.yaml").read_text()) or [])
    return "(not recorded)"


def grid_size(group: pd.DataFrame) -> str:
    """E.g. 'n=3, m=2 relu: 40 density x 40 relative x 10 seed = 16,000 models'."""
    first = group.iloc[0]
    axes = ["density" if group["density"].notna().all() else "sparsity", *varying_axes(group), "seed"]
    counts = [f"{group[a].nunique()} {a.removeprefix('importance_')}" for a in axes]
    models = len(group.drop_duplicates(["run", "model_id"]))
    return f"n={first['n_features']}, m={first['n_hidden']} {first['model_kind']}: {' x '.join(counts)} = {models:,} models"


def run_facts(root: Path, table: pd.DataFrame) -> list[tuple[str, str]]:
    """(label, value) rows: what was run, from the runs' summary.json files and the table."""
    runs = find_runs(root)
    summaries = {run: load_summary(run) for run in runs}
    seconds = sum(s["seconds"] for s in summaries.values())
    compile_seconds = sum(s["compile_seconds"] for s in summaries.values())
    model_steps = sum(s["n_models"] * (s["steps"] - s.get("resumed_from_step", 0)) for s in summaries.values())
    diverged = {run.relative_to(root).as_posix() or ".": s["diverged_models"] for run, s in summaries.items()
                if s["diverged_models"]}
    n_diverged = sum(len(ids) for ids in diverged.values())
    facts = [
        ("command", _overrides(root)),
        ("directory", str(root.resolve())),
        ("grid", "; ".join(grid_size(group) for _, group in shape_groups(table))),
        ("jobs", f"{len(runs)} run dir(s), {sum(s['n_models'] for s in summaries.values()):,} models"),
        ("steps", ", ".join(f"{s:,}" for s in sorted(table["steps"].unique()))
         + f" (batch {', '.join(str(b) for b in sorted(table['batch_size'].unique()))})"),
        ("training time", (f"{seconds:,.1f} s summed over jobs (compile {compile_seconds:,.1f} s included; "
                           "jobs overlap only with a parallel launcher)")),
        ("speed", f"{model_steps / seconds:,.0f} model-steps/s" if seconds > 0 else "n/a"),
        ("devices", ", ".join(str(d) for d in sorted({s["devices"] for s in summaries.values()})) + " XLA device(s) per job"),
        ("diverged models", "none" if not n_diverged else
         f"{n_diverged}: " + "; ".join(f"{run}: model_id {ids[:20]}{' ...' if len(ids) > 20 else ''}"
                                       for run, ids in diverged.items())),
    ]
    sweep_file = root / "sweep.json"
    ends = [run / "summary.json" for run in runs]
    if sweep_file.exists() and all(p.stat().st_mtime >= sweep_file.stat().st_mtime for p in ends):
        wall = max(p.stat().st_mtime for p in ends) - sweep_file.stat().st_mtime
        facts.insert(6, ("wall time", f"{wall:,.1f} s from the plan (sweep.json) to the last job's summary.json"))
    return facts


# ----------------------------------------------------------------------------- data for the page


def _models(group: pd.DataFrame, weights: dict) -> tuple[pd.DataFrame, dict | None]:
    """The ok models of a shape (row position = the index the page uses) and their W, b (None if too many values)."""
    models = models_table(group)
    models = models[models["status"] == "ok"].sort_values(["run", "model_id"]).reset_index(drop=True)
    n, m = int(group["n_features"].iloc[0]), int(group["n_hidden"].iloc[0])
    if len(models) * n * (m + 1) > MAX_WEIGHTS:
        return models, None
    W, b = [], []
    for run, ids in models.groupby("run", sort=False)["model_id"]:
        position = pd.Series(np.arange(len(weights[run]["model_id"])), index=weights[run]["model_id"])[ids.to_numpy()]
        W.append(weights[run]["W"][position.to_numpy()])
        b.append(weights[run]["b"][position.to_numpy()])
    return models, {"W": _float32(np.concatenate(W)), "b": _float32(np.concatenate(b))}


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


def _figure_files(root: Path, suffix: str) -> list[tuple[str, Path]]:
    """(figure name, PNG) of one shape in <root>/figures/, known figures first in FIGURES order."""
    pngs = [(png.stem.removesuffix(suffix) if suffix else png.stem, png)
            for png in (root / FIGURES_DIR).glob(f"*{suffix}.png")]
    order = list(FIGURES)
    return sorted(pngs, key=lambda item: (order.index(item[0]) if item[0] in order else len(order), item[0]))


def _png(path: Path) -> str:
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def _script_json(value) -> str:
    """JSON for a <script> element: '</' cannot end it early."""
    return json.dumps(value, separators=(",", ":")).replace("</", "<\\/")


STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 1500px; padding: 0 1em; color: #222; }
table.facts td { padding: 2px 12px 2px 0; vertical-align: top; } table.facts td:first-child { font-weight: 600; }
code { font-size: 0.9em; } h2 { margin-top: 2em; border-top: 1px solid #ccc; padding-top: 0.6em; }
.interactive { display: flex; gap: 1em; align-items: flex-start; } .interactive > .plot { flex: 3; min-width: 0; }
.side { flex: 1.3; min-width: 320px; font-size: 0.85em; } .side table { border-collapse: collapse; }
.side td, .side th { padding: 1px 6px; text-align: right; } .side tr.seed { cursor: pointer; }
.side tr.shown { background: #fde9a9; } .model { height: 300px; }
figure { margin: 1em 0; } figure img { max-width: 100%; } figcaption { font-size: 0.85em; color: #555; }
"""


def build_page(root: Path, config: AnalysisConfig = AnalysisConfig()) -> str:
    """The report's HTML for a run or multirun dir whose figures (and phase tables) plot_run has written."""
    import plotly.offline

    table = with_run(load(root))
    weights = load_weights(root)
    body, groups = [], []
    facts = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in run_facts(root, table))
    body.append(f"<h1>Sweep report: {html.escape(root.resolve().name)}</h1><table class='facts'>{facts}</table>")
    for g, (suffix, group) in enumerate(shape_groups(table)):
        body.append(f"<h2>{html.escape(title(group))}</h2><p>{html.escape(grid_size(group))}</p>")
        models, model_weights = _models(group, weights)
        data = {"n": int(group["n_features"].iloc[0]), "m": int(group["n_hidden"].iloc[0]),
                "weights": model_weights, "seeds": models["seed"].astype(int).tolist(), "phase": [], "dims": None}
        cells_path = root / f"{PHASE_CELLS}{suffix}.parquet"
        if cells_path.exists():
            all_cells = pd.read_parquet(cells_path)
            for k, (combo, cells) in enumerate(all_cells.groupby(["lr", "weight_decay"], sort=True)):
                cells = cells.reset_index(drop=True)
                several = len(all_cells[["lr", "weight_decay"]].drop_duplicates()) > 1
                label = f" (lr={combo[0]:.3g}, wd={combo[1]:.3g})" if several else ""
                heading = (f"Phase of the extra feature{label}: hover a cell, click it for its seeds and best model "
                           f"({int(cells['n_seeds'].max())} seed(s) per cell)")
                div = f"phase-{g}-{k}"
                data["phase"].append({"id": div, "figure": _figure_json(phase_figure(cells, heading)),
                                      "cells": phase_data(cells, group, models, config)})
                body.append(f"<div class='interactive'><div class='plot' id='{div}'></div>"
                            f"<div class='side' id='{div}-side'>Click a cell for its seeds and its best model.</div></div>")
        dims = dims_figure(group, models, config)
        if dims is not None:
            div = f"dims-{g}"
            data["dims"] = {"id": div, "figure": _figure_json(dims)}
            body.append(f"<div class='interactive'><div class='plot' id='{div}'></div>"
                        f"<div class='side' id='{div}-side'>Hover a point for that model's W^T W and b.</div></div>")
        for name, png in _figure_files(root, suffix):
            body.append(f"<figure><img alt='{name}' src='{_png(png)}'><figcaption>{html.escape(FIGURES.get(name, name))} "
                        f"({FIGURES_DIR}/{png.name})</figcaption></figure>")
        groups.append(data)
    written = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    body.append(f"<p><small>Written {written} by <code>python -m analysis.report</code> (seed rule {config.rule}).</small></p>")
    report = {"phases": [p.replace("_", " ") for p in PHASES], "config": PLOT_CONFIG, "groups": groups}
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>Sweep report: {html.escape(root.resolve().name)}</title><style>{STYLE}</style>"
            f"<script>{plotly.offline.get_plotlyjs()}</script></head><body>\n" + "\n".join(body) +
            f"\n<script>const REPORT = {_script_json(report)};</script>\n<script>{SCRIPT.read_text()}</script>\n</body></html>\n")


def write_report(run_dir, config: AnalysisConfig = AnalysisConfig()) -> Path:
    """Write <dir>/report.html (drawing the figures first if <dir>/figures/ is missing); returns its path."""
    root = Path(run_dir)
    find_runs(root)  # NoRunsError if there is nothing to report
    if not (root / FIGURES_DIR).is_dir():
        plot_run(root, config)
    path = root / REPORT
    page = build_page(root, config)
    write_atomically(path, lambda p: p.write_text(page, encoding="utf-8"))
    return path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.report", description=__doc__.splitlines()[0])
    parser.add_argument("dir", help="a run dir or a multirun dir (runs found recursively)")
    args = parser.parse_args(argv)
    try:
        path = write_report(args.dir)
    except NoRunsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
