"""TEMPLATE (not registered): copy to NAME.py, fill in, add the module to MODULES in __init__.py.

One line on what it trains and which claim of which source it tests (`python -m analysis.paper NAME`;
docs/experiments/NAME.md). Say which seed the checks read (usually the lowest-loss seed of each cell, `run.best`).
"""
from __future__ import annotations

from pathlib import Path

from analysis.experiments.claims import CAPACITY, FORMATS, PAPER, Claim, Preset, Verdict, evaluate
from analysis.run import Run

PRESETS = (Preset("NAME", ("weights",)),)  # conf/experiment/NAME.yaml; the generic figures copied to the gallery
SOURCE = f"{PAPER}, section 'Section' > 'Subsection'"  # the headings as the paper prints them
THRESHOLD = 0.9  # fixed before the full-size run: say why this value


def measure(run: Run) -> Verdict:
    """What the claim needs, read from the run: the number, the verdict, and values the printed line names."""
    dims = run.best.sort_values("density", ascending=False)["dims_per_feature"].to_numpy()
    return Verdict(dims[0] > THRESHOLD, f"{dims[0]:.3f}", {"m": int(run.setting("n_hidden"))})


CLAIMS = (
    Claim("dense, m={m}: about one dimension per feature",  # printed with PASS/FAIL and the measured value
          "\"...\"",  # the source's exact words (python -m tools.quotes finds them), or "ours: why we test it"
          SOURCE, f"> {THRESHOLD}: why this threshold", measure),
    CAPACITY,  # sum_i D_i <= m on every model, a check that costs nothing
)


def check(run: Run):
    return evaluate(CLAIMS, run)


def figures(run: Run, formats=FORMATS) -> list[Path]:
    return []  # or save(a Figure, run.directory / "figures", "NAME", formats): analysis/figures/common.py
