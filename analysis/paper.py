"""Reproduce the paper's figures, one command each, and check the facts the paper reports.

    python -m analysis.paper intro                      # one figure (trains, or reuses a finished run)
    python -m analysis.paper all                        # every figure
    python -m analysis.paper phase_n2 -- steps=3000     # extra Hydra overrides after `--`
    python -m analysis.paper intro -- hydra.sweep.dir=DIR   # train (or reuse) in DIR instead

Each experiment is `python -m sweep.run -m experiment=NAME` (conf/experiment/NAME.yaml) into
outputs/paper/NAME (a suffix names any extra overrides), then `analysis.plot` draws its figures
into outputs/paper/NAME/figures/, the experiment's module (analysis/experiments/) draws its own and
its checks print PASS/FAIL; the exit status is 1 if a check fails. `--gallery DIR` copies the
headline PNGs into DIR (the README's gallery) and records what was measured (date, machine, command,
times, every check) in DIR/RESULTS.md.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from analysis.experiments import EXPERIMENTS, Experiment
from analysis.experiments.claims import Fact
from analysis.figures import plot_run
from analysis.run import Run
from sweep.identity import PRESENTATION_KEYS, run_name

__all__ = ["EXPERIMENTS", "Experiment", "Fact", "reproduce", "record", "results_table", "main"]
ROOT = Path("outputs/paper")


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


SAE_KEYS = ("sae.", "synthetic.")  # overrides after `--` that go to `python -m sweep.sae`, not to sweep.run


def train_saes(name: str, overrides: list[str], directory: Path, toy: bool, progress: bool = True) -> None:
    """The experiment's SAE stage (conf/sae_experiment/NAME.yaml) on its toy run, or on synthetic data into DIR/sae;
    a stage whose results are there already is reused (sweep/sae/stage.py)."""
    where = f"run={directory}" if toy else f"out={directory / 'sae'}"
    command = [sys.executable, "-m", "sweep.sae", f"sae_experiment={name}", where, f"sae.progress={str(progress).lower()}",
               *overrides]
    subprocess.run(command, check=True)


def reproduce(name: str, overrides: list[str] = (), root: Path = ROOT, gallery: Path | None = None,
              progress: bool = True, directory: Path | None = None) -> tuple[Path, list[Fact]]:
    directory = directory or experiment_dir(name, list(overrides), root)
    experiment = EXPERIMENTS[name]
    sae_overrides = [o for o in overrides if o.lstrip("+~").startswith(SAE_KEYS)]
    toy_overrides = [o for o in overrides if o not in sae_overrides]
    if experiment.preset.toy:
        train(name, toy_overrides, directory, progress)
    if experiment.preset.sae:
        train_saes(name, sae_overrides, directory, experiment.preset.toy, progress)
    run = Run(directory, name)  # read once, for the figures and the checks
    figures = (plot_run(run) if experiment.preset.toy else []) + experiment.figures(run)
    facts = experiment.check(run)
    (directory / "checks.json").write_text(json.dumps([f.__dict__ for f in facts], indent=2, default=bool))
    if experiment.preset.toy:
        from analysis.report import write_report  # the page every sweep.run writes, here too (figures drawn above)

        write_report(directory)
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
    # the toy runs' summaries and the SAE stages' (sae.json: n_models counts SAEs)
    summaries = [json.loads(p.read_text()) for pattern in ("summary.json", "sae.json") for p in directory.rglob(pattern)]
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
    from sweep.help import experiments

    parser = argparse.ArgumentParser(prog="python -m analysis.paper [-- KEY=VALUE ...]", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="experiments (conf/experiment/NAME.yaml; times from outputs/gallery/"
                                            "RESULTS.md):\n" + "\n".join(experiments()) +
                                            "\n\nKEY=VALUE after `--`: any sweep.run override (python -m sweep.run "
                                            "--help; docs/reference.md)")
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
        report = f" (report: {directory / 'report.html'})" if EXPERIMENTS[name].preset.toy else ""
        print(f"\n{name}: {directory}{report}")
        for fact in facts:
            print(f"  {'PASS' if fact.passed else 'FAIL'}  {fact.claim}: {fact.measured}")
            failed += not fact.passed and not EXPERIMENTS[name].findings
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
