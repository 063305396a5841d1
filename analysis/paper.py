"""Reproduce the paper's figures, one command each, and check the facts the paper reports.

    python -m analysis.paper intro                      # one figure (trains, or reuses a finished run)
    python -m analysis.paper all                        # every figure
    python -m analysis.paper phase_n2 -- steps=3000     # extra Hydra overrides after `--`
    python -m analysis.paper intro -- hydra.sweep.dir=DIR   # train (or reuse) in DIR instead

Each experiment is `python -m sweep.run -m experiment=NAME` (conf/experiment/NAME.yaml) into
outputs/paper/NAME (a suffix names any extra overrides), then `analysis.plot` draws its figures
into outputs/paper/NAME/figures/ and the checks below print PASS/FAIL; the exit status is 1 if a
check fails. `--gallery DIR` copies the headline PNGs into DIR (the README's gallery) and records
what was measured (date, machine, command, times, every check) in DIR/RESULTS.md.
"""
from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

import analysis
from analysis.aggregate import per_model, select_seeds
from analysis.plot import PHASE_CELLS, plot_run
from sweep.config import PRESENTATION_KEYS, run_name

ROOT = Path("outputs/paper")


@dataclass
class Fact:
    claim: str
    passed: bool
    measured: str


def best_models(table: pd.DataFrame) -> pd.DataFrame:
    """The lowest-loss seed of every cell, one row per model."""
    marked = select_seeds(table, "best")
    return per_model(marked[marked["used"]])


def _at(models: pd.DataFrame, **where) -> pd.DataFrame:
    mask = np.ones(len(models), bool)
    for column, value in where.items():
        mask &= np.isclose(models[column].to_numpy(np.float64), value)
    return models[mask]


def antipodal_pairs(W, threshold: float = -0.9) -> int:
    """Pairs of represented features whose directions are (nearly) opposite."""
    norms = np.linalg.norm(W, axis=0)
    keep = np.flatnonzero(norms > 0.5)
    unit = W[:, keep] / norms[keep]
    cosine = unit.T @ unit
    return int((np.triu(cosine, 1) < threshold).sum())


def angular_gaps(W) -> np.ndarray:
    """For m = 2: the angles (degrees) between consecutive directions of the represented features, around the circle."""
    keep = np.linalg.norm(W, axis=0) > 0.5
    angles = np.sort(np.degrees(np.arctan2(W[1, keep], W[0, keep])))
    return np.diff(np.append(angles, angles[:1] + 360)) if len(angles) else angles


def check_intro(directory: Path, table: pd.DataFrame) -> list[Fact]:
    models = best_models(table)
    weights = analysis.load_weights(directory)
    facts = []
    for sparsity, expected in ((0.0, 2), (0.8, 4), (0.9, 5)):
        row = _at(models, sparsity=sparsity)
        n = int(row["n_represented"].iloc[0])
        facts.append(Fact(f"S={sparsity}: {expected} features represented", n == expected, f"{n}"))
    row = _at(models, sparsity=0.8).iloc[0]
    pairs = antipodal_pairs(analysis.model_weights(weights, row["run"], row["model_id"])[0])
    facts.append(Fact("S=0.8: the 4 features form 2 antipodal pairs", pairs == 2, f"{pairs} pairs"))
    row = _at(models, sparsity=0.9).iloc[0]
    gaps = angular_gaps(analysis.model_weights(weights, row["run"], row["model_id"])[0])
    facts.append(Fact("S=0.9: a pentagon (5 directions, every gap between neighbours 72 +- 12 degrees)",
                      len(gaps) == 5 and bool(np.all(np.abs(gaps - 72) <= 12)),
                      "gaps " + ", ".join(f"{g:.0f}" for g in gaps)))
    return facts


def check_basic(directory: Path, table: pd.DataFrame) -> list[Fact]:
    models = best_models(table)
    m = int(table["n_hidden"].iloc[0])
    represented = table[table["represented"]].groupby(["run", "model_id"])["feature"].apply(frozenset)
    linear = models[models["model_kind"] == "linear"]
    top_m = frozenset(range(m))
    ok = [represented.get((r, i), frozenset()) == top_m for r, i in zip(linear["run"], linear["model_id"])]
    facts = [Fact(f"linear model: exactly the top {m} features at every density", all(ok),
                  f"{sum(ok)}/{len(ok)} models")]
    relu = models[models["model_kind"] == "relu"].sort_values("density", ascending=False)
    dense = int(relu["n_represented"].iloc[0])
    facts.append(Fact(f"ReLU, density 1: {m} features (no superposition)", dense == m, f"{dense}"))
    sparse = relu[relu["density"] <= 0.1]["n_represented"].to_numpy()
    facts.append(Fact(f"ReLU, density <= 0.1: more than {m} features (superposition)", bool((sparse > m).all()),
                      ",".join(map(str, sparse))))
    return facts


FULL_SEEDS, FULL_STEPS = 10, 10_000  # the presets' seeds per cell and steps: the agreement targets apply there


def check_phase(target: float, reduced: float = 0.85) -> Callable[[Path, pd.DataFrame], list[Fact]]:
    """Best seed (ranked by exact loss) against the optimal theory, plus two facts that hold by construction
    unless something is broken: no trained model beats the optimum, and the optimum never loses to the paper.

    `target` is the bar for a run with the preset's seeds and steps; fewer seeds or steps (the CI-sized
    runs) leave more cells in local minima, and are held to `reduced`.
    """

    def check(directory: Path, table: pd.DataFrame) -> list[Fact]:
        from analysis.phase import agreement

        n, m = int(table["n_features"].iloc[0]), int(table["n_hidden"].iloc[0])
        full = table["seed"].nunique() >= FULL_SEEDS and int(table["steps"].min()) >= FULL_STEPS
        minimum = target if full else reduced
        cells = pd.read_parquet(directory / f"{PHASE_CELLS}.parquet")  # written by plot_run
        best, majority = agreement(cells, "optimal"), agreement(cells, "optimal", "majority")
        paper = agreement(cells, "paper")
        missed = cells[cells["phase"] != cells["phase_optimal"]]
        below = cells["best_gap"] < -1e-4
        measured = (f"{best:.1%} of {len(cells)} cells (majority of seeds: {majority:.1%}; "
                    f"best seed vs the paper's theory: {paper:.1%})")
        if len(missed):
            measured += (f"; in the {len(missed)} missed cells {missed['frac_at_optimum'].mean():.0%} of seeds "
                         f"reach the optimum on average")
        return [
            Fact(f"n={n}, m={m}: the best seed's phase agrees with the optimal theory (>= {minimum:.0%} of cells"
                 f"{'' if full else f'; {target:.0%} with {FULL_SEEDS} seeds and {FULL_STEPS:,} steps'})",
                 best >= minimum, measured),
            Fact("no best seed's exact loss is below the optimal theory's (1e-4)", not below.any(),
                 f"{int(below.sum())} cells below; best seed within 1% of the optimum in "
                 f"{(cells['best_gap'] <= 0.01).mean():.1%} of cells, median gap {cells['best_gap'].median():.2%}"),
            Fact("the optimal theory's loss is never above the paper's",
                 bool((cells["loss_optimal"] <= cells["loss_paper"] * (1 + 1e-6)).all()),
                 f"largest ratio optimal/paper {float((cells['loss_optimal'] / cells['loss_paper']).max()):.4f}"),
        ]

    return check


def check_shrinking_dims(directory: Path, table: pd.DataFrame) -> list[Fact]:
    """The paper's m / ||W||_F^2 falls with sparsity; beside it, what it is made of at the sparsest density:
    m / ||W||_F^2 = (m/n) / mean ||W_i||^2 goes below m/n when norms grow above 1, while the scale-free
    mean D_i stays near m/n (sum D_i <= m), so a value under m/n is not more features per dimension."""
    marked = select_seeds(table, "best")
    best = marked[marked["used"]]  # one row per feature of each cell's best seed
    models = per_model(best).sort_values("density", ascending=False)
    dims = models["dims_per_feature"].to_numpy()
    sparsest = best[np.isclose(best["density"], models["density"].iloc[-1])]
    m, n = int(table["n_hidden"].iloc[0]), int(table["n_features"].iloc[0])
    return [
        Fact("dense: about one dimension per feature (m features, orthogonal)", dims[0] > 0.9, f"{dims[0]:.3f}"),
        Fact("sparsest: well under half a dimension per feature (superposition)", dims[-1] < 0.5 * dims[0],
             f"{dims[-1]:.3f} (m/n = {m / n:.3f}; mean ||W_i||^2 {(sparsest['norm'] ** 2).mean():.2f}; "
             f"mean D_i {sparsest['dimensionality'].mean():.3f})"),
    ]


def check_more_features_when_sparse(directory: Path, table: pd.DataFrame) -> list[Fact]:
    models = best_models(table).sort_values("density", ascending=False)
    m = int(table["n_hidden"].iloc[0])
    dims, counts = models["dims_per_feature"].to_numpy(), models["n_represented"].to_numpy()
    return [
        Fact("dense: about one dimension per feature (no superposition)", dims[0] > 0.9, f"{dims[0]:.3f}"),
        Fact(f"sparsest: more than m={m} features represented", counts[-1] > m, f"{counts[-1]}"),
    ]


def _later(module: str, name: str) -> Callable:
    """module.name, imported at the first call: an experiment's own module loads only when it runs."""

    def call(*args, **kwargs):
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__name__ = f"{module}.{name}"
    return call


@dataclass
class Experiment:
    check: Callable[[Path, pd.DataFrame], list[Fact]]
    gallery: tuple  # figure names to copy into the gallery
    figures: Callable[[Path], list[Path]] | None = None  # the experiment's own figures, beside plot_run's
    findings: bool = False  # a FAIL is a finding about someone's claim (the blog's), not a broken run: exit 0


EXPERIMENTS = {
    "intro": Experiment(check_intro, ("geometry", "weights")),
    "basic": Experiment(check_basic, ("weights_linear", "weights_relu")),
    "basic_large": Experiment(check_basic, ("weights_linear", "weights_relu")),
    "phase_n2": Experiment(check_phase(0.98), ("phase",)),
    "phase_n3": Experiment(check_phase(0.97), ("phase",)),
    "geometry": Experiment(check_shrinking_dims, ("dims_per_feature", "dimensionality")),
    "notebook_intro": Experiment(check_more_features_when_sparse, ("geometry",)),
    "notebook_sparsity": Experiment(check_more_features_when_sparse, ("weights", "dims_per_feature")),
    "notebook_geometry": Experiment(check_shrinking_dims, ("dims_per_feature", "dimensionality")),
    "blog": Experiment(_later("analysis.blog", "check"), ("reproduced", "seeds"), _later("analysis.blog", "figures"),
                       findings=True),
    "correlated": Experiment(_later("analysis.correlated", "check"), ("sets",), _later("analysis.correlated", "figures")),
    # The collapse regimes' ends are the paper's approximate claims: a FAIL there is a finding (docs/correlated.md)
    "correlated_collapse": Experiment(_later("analysis.correlated", "check_collapse"), ("collapse",),
                                      _later("analysis.correlated", "collapse_figures"), findings=True),
    "correlated_bases": Experiment(_later("analysis.correlated", "check_bases"), ("weights",)),
    # Its regimes' ends are the paper's approximate claims, from 1000 seeds a density: a FAIL is a finding (docs/privileged.md)
    "privileged": Experiment(_later("analysis.privileged", "check"), ("privileged",), _later("analysis.privileged", "figures"),
                             findings=True),
    # The paper's learning-dynamics claim (jumps between D_i levels, the loss dropping at them): a FAIL is a finding
    "dynamics": Experiment(_later("analysis.dynamics", "check"), ("dynamics",), _later("analysis.dynamics", "figures"),
                           findings=True),
    "computation_demo": Experiment(_later("analysis.computation", "check_demo"), ("neurons",),
                                   _later("analysis.computation", "figures")),
    # The paper's qualitative claims over density, read through thresholds fixed beforehand: a FAIL is a finding
    # (docs/computation.md)
    "computation": Experiment(_later("analysis.computation", "check"), ("neurons",), _later("analysis.computation", "figures"),
                              findings=True),
}


def experiment_dir(name: str, overrides: list[str], root: Path = ROOT) -> Path:
    """outputs/paper/NAME, suffixed by the overrides that change results (not e.g. exec.progress)."""
    suffix = run_name(",".join(o for o in overrides if o.split("=")[0].lstrip("+~") not in PRESENTATION_KEYS))
    return root / (name if suffix == "default" else f"{name}-{suffix}")


def split_sweep_dir(overrides: list[str]) -> tuple[Path | None, list[str]]:
    """(DIR of a `hydra.sweep.dir=DIR` override or None, the other overrides): the experiment's dir is DIR."""
    dirs = [o.split("=", 1)[1].strip("'\"") for o in overrides if o.lstrip("+").startswith("hydra.sweep.dir=")]
    rest = [o for o in overrides if not o.lstrip("+").startswith("hydra.sweep.dir=")]
    return (Path(dirs[-1]) if dirs else None), rest


def train(name: str, overrides: list[str], directory: Path, progress: bool = True) -> None:
    """The experiment as a fused multirun (finished jobs are reused, interrupted ones resume)."""
    command = [sys.executable, "-m", "sweep.run", "-m", f"experiment={name}", f"hydra.sweep.dir={directory}",
               "exec.plots=false", f"exec.progress={str(progress).lower()}", *overrides]
    subprocess.run(command, check=True)


def reproduce(name: str, overrides: list[str] = (), root: Path = ROOT, gallery: Path | None = None,
              progress: bool = True, directory: Path | None = None) -> tuple[Path, list[Fact]]:
    directory = directory or experiment_dir(name, list(overrides), root)
    train(name, list(overrides), directory, progress)
    figures = plot_run(directory)
    if EXPERIMENTS[name].figures is not None:
        figures += EXPERIMENTS[name].figures(directory)
    facts = EXPERIMENTS[name].check(directory, analysis.load(directory))
    (directory / "checks.json").write_text(json.dumps([f.__dict__ for f in facts], indent=2, default=bool))
    if gallery is not None:
        gallery.mkdir(parents=True, exist_ok=True)
        for figure in EXPERIMENTS[name].gallery:
            for path in figures:
                if path.suffix == ".png" and path.stem.startswith(figure):
                    shutil.copy(path, gallery / f"{name}_{path.name}")
    return directory, facts


def _machine() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    lines = cpuinfo.read_text().splitlines() if cpuinfo.exists() else []
    cpu = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), platform.machine())
    return f"{os.cpu_count()} cores, {cpu}"


def record(gallery: Path, name: str, overrides: list[str], directory: Path, facts: list[Fact], seconds: float) -> Path:
    """Write what this command measured into gallery/results/NAME.json and rebuild gallery/RESULTS.md from all of them.

    The docs quote RESULTS.md, so every number in it says when, where and by which command it was measured.
    """
    summaries = [json.loads(p.read_text()) for p in directory.rglob("summary.json")]
    entry = {
        "experiment": name,
        "command": " ".join(["python -m analysis.paper", name, *(["--", *overrides] if overrides else [])]),
        "date": datetime.date.today().isoformat(),
        "machine": _machine(),
        "models": sum(s["n_models"] for s in summaries),
        "jobs": len(summaries),
        "training_s": round(sum(s["seconds"] for s in summaries), 1),
        "command_s": round(seconds, 1),
        "checks": [{"claim": f.claim, "passed": bool(f.passed), "measured": f.measured} for f in facts],
    }
    (gallery / "results").mkdir(parents=True, exist_ok=True)
    (gallery / "results" / f"{name}.json").write_text(json.dumps(entry, indent=2) + "\n")
    return results_table(gallery)


def results_table(gallery: Path) -> Path:
    """Rebuild gallery/RESULTS.md from every gallery/results/*.json (`record`)."""
    def cell(text: str) -> str:
        return str(text).replace("|", "\\|")  # a | inside a cell (e.g. |b_i|) would end it

    lines = ["# Measured results of `python -m analysis.paper` (regenerated by `--gallery`; do not edit)", "",
             "training_s: the jobs' own training time when they were trained (summary.json); command_s: this "
             "command's wall time (training, unless reused, plus theory, figures and checks).", "",
             "| experiment | command | date | machine | models (jobs) | training_s | command_s | check | result | measured |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for path in sorted((gallery / "results").glob("*.json")):
        e = json.loads(path.read_text())
        for k, c in enumerate(e["checks"]):
            head = (f"{e['experiment']} | `{e['command']}` | {e['date']} | {e['machine']} | {e['models']:,} "
                    f"({e['jobs']}) | {e['training_s']:g} | {e['command_s']:g}") if k == 0 else " |  |  |  |  |  | "
            lines.append(f"| {head} | {cell(c['claim'])} | {'PASS' if c['passed'] else 'FAIL'} | {cell(c['measured'])} |")
    (gallery / "RESULTS.md").write_text("\n".join(lines) + "\n")
    return gallery / "RESULTS.md"


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    overrides = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[: argv.index("--")] if "--" in argv else argv
    parser = argparse.ArgumentParser(prog="python -m analysis.paper", description=__doc__.splitlines()[0])
    parser.add_argument("figure", choices=[*EXPERIMENTS, "all"])
    parser.add_argument("--root", type=Path, default=ROOT, help="where experiments are written (default %(default)s)")
    parser.add_argument("--gallery", type=Path, help="copy the headline PNGs here and record the measured numbers "
                        "in GALLERY/RESULTS.md")
    args = parser.parse_args(argv)
    names = list(EXPERIMENTS) if args.figure == "all" else [args.figure]
    sweep_dir, overrides = split_sweep_dir(overrides)
    if sweep_dir is not None and len(names) > 1:
        print("config error: hydra.sweep.dir= names one experiment's dir; give one experiment, not all", file=sys.stderr)
        return 2
    failed = 0
    for name in names:
        start = time.perf_counter()
        directory, facts = reproduce(name, overrides, args.root, args.gallery, directory=sweep_dir)
        if args.gallery is not None:
            record(args.gallery, name, overrides, directory, facts, time.perf_counter() - start)
        print(f"\n{name}: {directory}")
        for fact in facts:
            print(f"  {'PASS' if fact.passed else 'FAIL'}  {fact.claim}: {fact.measured}")
            failed += not fact.passed and not EXPERIMENTS[name].findings
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
