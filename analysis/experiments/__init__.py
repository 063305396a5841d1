"""The experiments: one module per experiment, every module of the same shape, registered here by import.

Adding an experiment is four files:

1. `analysis/experiments/NAME.py`, a copy of `_template.py` (or of `notebook.py`, the simplest real one), with
   - `PRESETS`: the preset(s) it reads (`Preset(name, gallery figures, findings)`); presets that share their claims
     share a module (basic/basic_large, phase_n2/phase_n3, geometry/notebook_geometry, notebook_intro/_sparsity);
   - `CLAIMS`: the claims as data (claims.py: `Claim`): the line printed with the verdict, the sentence tested (the
     source's exact words in quotes, checked by `python -m tools.quotes`; or "ours:" and why, where the source says no
     such thing), its source (the paper's section headings or the blog's), the threshold and why, and the measure,
     a function of the `Run` (analysis/run.py: the table, weights, history and snapshots, read once; the lowest-loss
     seed of each cell, `run.best`, picked once);
   - `check(run)`: the facts (`evaluate(CLAIMS, run)` unless the experiment votes over seeds, as blog.py does);
   - `figures(run, formats)`: its own figures, beside the generic ones analysis.figures.plot_run draws for every run;
2. `conf/experiment/NAME.yaml`, the preset;
3. `docs/experiments/NAME.md`, what it trains, its claims and what was measured;
4. its test (CI-sized in tests/system/test_paper.py's SMALL, or doctored runs as in tests/analysis/experiments/test_claims.py);

and one line here: the module in `MODULES`. `python -m analysis.paper NAME` then trains, draws, checks and records it.
Measures shared by several experiments live in compute modules (analysis/geometry.py, neurons.py), never in another
experiment's module.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from analysis.experiments import (
    adversarial,
    basic,
    blog,
    computation,
    computation_demo,
    correlated,
    correlated_bases,
    correlated_collapse,
    dynamics,
    geometry,
    intro,
    kgon_census,
    kgons,
    llc,
    nonuniform,
    notebook,
    phase_change,
    privileged,
    sae_synthetic,
    sae_toy,
    transformations,
)
from analysis.experiments.claims import FORMATS, Fact, Preset
from analysis.run import Run

MODULES = (intro, basic, phase_change, geometry, notebook, blog, correlated, correlated_collapse, correlated_bases,
           privileged, dynamics, transformations, computation_demo, computation, nonuniform, adversarial, kgon_census,
           kgons, llc, sae_toy, sae_synthetic)


@dataclass(frozen=True)
class Experiment:
    """One preset and the module that checks and draws it."""

    preset: Preset
    module: ModuleType

    @property
    def gallery(self) -> tuple[str, ...]:
        return self.preset.gallery

    @property
    def findings(self) -> bool:
        return self.preset.findings

    def check(self, run: Run) -> list[Fact]:
        return self.module.check(run)

    def figures(self, run: Run, formats=FORMATS) -> list[Path]:
        return self.module.figures(run, formats)


EXPERIMENTS = {preset.name: Experiment(preset, module) for module in MODULES for preset in module.PRESETS}
