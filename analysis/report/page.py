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
ends. Why plotly, and the page's size: docs/report.md. The interactive figures: report/plotly_figures.py; the
page's script: report/report.js; the CLI: report/__main__.py.
"""
from __future__ import annotations

import base64
import datetime
import gzip
import html
import json
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from analysis import find_runs, load, load_weights, sae
from analysis.config import AnalysisConfig
from analysis.figures import FIGURES_DIR, plot_run, shape_groups
from analysis.figures.common import (
    models_table,
    title,
    varying_axes,
    with_run,
)
from analysis.phase import PHASE_CELLS, PHASES
from analysis.report.captions import FIGURES
from analysis.report.plotly_figures import (
    dims_figure,
    phase_data,
    phase_figure,
)
from sweep.results import load_summary, write_atomically
from sweep.timing import cache_dir

REPORT = "report.html"
SCRIPT = Path(__file__).with_name("report.js")  # the page's own script: draws the figures, answers hover and click
MAX_WEIGHTS = 2_000_000  # W and b values embedded per shape (all ok models); above this hover and click show numbers only
PLOT_CONFIG = {"displaylogo": False, "responsive": True}


def _float32(values) -> str:
    """Base64 of little-endian float32 values (a third of the size of JSON text); report.js decodes it."""
    return base64.b64encode(np.asarray(values, "<f4").tobytes()).decode("ascii")


def plotly_packed() -> str:
    """plotly.js gzipped and base64'd (4.8 MB -> 2.0 MB), packed once per plotly version and machine (the user's cache
    dir); the page unpacks it with the browser's DecompressionStream before report.js draws."""
    import plotly

    cache = Path(cache_dir()) / f"plotly-{plotly.__version__}.js.gz.b64"
    if cache.exists():
        return cache.read_text(encoding="ascii")
    import plotly.offline

    packed = base64.b64encode(gzip.compress(plotly.offline.get_plotlyjs().encode("utf-8"), 9, mtime=0)).decode("ascii")
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(cache, lambda path: path.write_text(packed, encoding="ascii"))
    except OSError:  # no cache: packed again next time
        pass
    return packed


# runs plotly.js once unpacked; report.js draws when PLOTLY resolves
UNPACK = ("const PLOTLY = new Response(new Blob([Uint8Array.from(atob('{packed}'), c => c.charCodeAt(0))]).stream()"
          ".pipeThrough(new DecompressionStream('gzip'))).text().then(code => document.head.appendChild("
          "Object.assign(document.createElement('script'), {{ text: code }})));")


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
        ("directory", f"{root.resolve().name} (the dir holding this report)"),
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


def sae_section(root: Path) -> list[str]:
    """The SAE stage's results under `root` (python -m sweep.sae; analysis/sae.py), if any: per source cell and
    dictionary size, the coefficient with the highest seed-mean MMCS and its scores (seed means)."""
    if not any(root.rglob(sae.SUMMARY)):
        return []
    table = sae.scores(root)
    cell = [c for c in ("stage", "arch", "sparsity", "source_seed", "dict_size") if c in table]
    best = sae.best_coefficient(table, cell)[[*cell, "coeff"]].merge(table, on=[*cell, "coeff"])
    shown = best.groupby([*cell, "coeff"])[["n_true", "mmcs", "recovered", "dead", "dense", "l0", "fve"]].mean()
    return ["<h2>Sparse autoencoders (python -m sweep.sae; docs/sae.md)</h2><p>Per cell, architecture and dictionary "
            "size: the L1 coefficient (or TopK's k) with the highest seed-mean MMCS, and its scores (means over SAE "
            f"seeds); {len(table)} SAEs in all, every one in the stage's scores.parquet.</p>"
            + shown.reset_index().to_html(index=False, float_format="%.3g")]


def build_page(root: Path, config: AnalysisConfig = AnalysisConfig()) -> str:
    """The report's HTML for a run or multirun dir whose figures (and phase tables) plot_run has written."""
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
    body += sae_section(root)
    written = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    body.append(f"<p><small>Written {written} by <code>python -m analysis.report</code> (seed rule {config.rule}).</small></p>")
    report = {"phases": [p.replace("_", " ") for p in PHASES], "config": PLOT_CONFIG, "groups": groups}
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>Sweep report: {html.escape(root.resolve().name)}</title><style>{STYLE}</style>"
            f"<script>{UNPACK.format(packed=plotly_packed())}</script></head><body>\n" + "\n".join(body) +
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
