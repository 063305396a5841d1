"""The parts every experiment module is made of (analysis/experiments/__init__.py): its presets, its claims as data,
and the facts a check prints.

A `Claim` says what it tests and how: the sentence it tests (`quote`: the source's exact words in double quotes, a
clause cut with " ... "; or, where no sentence of the source says what the check tests, "ours:" and why we test it;
or, where the source's text could not be read here, "unread:", what the claim restates and who cites it so),
where that sentence is (`source`: the paper's section headings, 'Section' > 'Subsection', or the blog's), the line
printed with the verdict (`says`, a format string), the threshold and why (`threshold`), and the `measure` that reads a
`Run` and returns a `Verdict` (or None where the run has nothing the claim applies to). `python -m tools.quotes` checks
every quoted fragment against the source's text. `evaluate` turns claims into `Fact`s,
what `python -m analysis.paper` prints and records.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from analysis.run import Run
from sweep.metrics import dimensionality_sum

PAPER = "Elhage et al. 2022, Toy Models of Superposition"
BLOG = ("Pramodith B. 2024, Mechanistic Interpretability: What's Superposition? "
        "(pramodith.github.io/posts/2024-11-30-superposition)")
OURS = "ours:"  # a claim this project adds: no sentence of the source says it
UNREAD = "unread:"  # the source's text was not available: the claim restates it as cited elsewhere (named)
CHEN = "Chen, Lau, Mendel, Wei, Murfet 2023, Dynamical versus Bayesian Phase Transitions in a Toy Model of Superposition"
FORMATS = ("png", "svg")


@dataclass(frozen=True)
class Preset:
    """conf/experiment/NAME.yaml, read by an experiment module: the figures copied into the gallery, and whether a FAIL
    is a finding about someone's claim (exit 0) rather than a broken run (exit 1)."""

    name: str
    gallery: tuple[str, ...]
    findings: bool = False
    toy: bool = True  # conf/experiment/NAME.yaml trains toy models (False: the experiment has none, e.g. synthetic SAEs)
    sae: bool = False  # conf/sae_experiment/NAME.yaml: then `python -m sweep.sae` trains SAEs (on the toy run, if any)


@dataclass
class Fact:
    claim: str
    passed: bool
    measured: str


@dataclass
class Verdict:
    passed: bool
    measured: str
    fields: dict = field(default_factory=dict)  # values for the claim's `says` that only the run knows (m, n, ...)


@dataclass(frozen=True)
class Claim:
    says: str  # printed with the verdict; {names} come from `args` and the verdict's fields
    quote: str  # "the source's exact words", or "ours: why we test it" where the source says no such thing
    source: str  # PAPER or BLOG, with the section headings
    threshold: str  # the threshold and why it is that
    measure: Callable[..., Verdict | list[Verdict] | None]  # (run, **args) -> a Verdict, one per cell, or None
    args: dict = field(default_factory=dict)

    def __post_init__(self):
        if not self.quote.startswith(('"', OURS, UNREAD)):
            raise ValueError(f"a claim quotes its source (\"...\"), says it is ours ({OURS!r}) or that the source "
                             f"was not read ({UNREAD!r}): {self.quote!r}")


def evaluate(claims, run: Run) -> list[Fact]:
    """Each claim measured on the run, in order (a claim tested cell by cell gives a fact per cell); claims the run has
    nothing for are left out."""
    facts = []
    for claim in claims:
        verdicts = claim.measure(run, **claim.args)
        for verdict in verdicts if isinstance(verdicts, list) else [] if verdicts is None else [verdicts]:
            facts.append(Fact(claim.says.format(**claim.args, **verdict.fields), verdict.passed, verdict.measured))
    return facts


def capacity(run: Run) -> Verdict:
    """sum_i D_i <= m on every trained model, computed afresh from W in float64."""
    models = run.table.drop_duplicates(["run", "model_id"])
    excess = [dimensionality_sum(run.W({"run": r, "model_id": i})) - m
              for r, i, m in zip(models["run"], models["model_id"], models["n_hidden"])]
    worst = float(np.max(excess))
    return Verdict(worst <= 1e-9, f"{len(excess)} models; largest sum_i D_i - m = {worst:.3g}")


CAPACITY = Claim(
    "every trained model: sum_i D_i <= m (capacity, Scherlis et al. 2022; 1e-9)",
    "ours: a theorem, not the paper's observation: the feature capacities (the paper's D_i) of a model sum to at most "
    "its m hidden dimensions (Scherlis et al. 2022); a guard on every D_i the checks read",
    "Scherlis et al. 2022, Polysemanticity and Capacity in Neural Networks (the bound the paper's D_i obey)",
    "1e-9: a theorem, so only float64 rounding may exceed it", capacity)
