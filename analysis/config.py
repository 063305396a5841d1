"""Every analysis setting with its default, in one place (thresholds, seed rule, theory, figures).

Change one by passing a modified copy, e.g. ``AnalysisConfig(phase=PhaseConfig(superposition=0.3))``,
or from the command line (``python -m analysis.plot DIR --rule best --superposition 0.3``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sweep.metrics import REPRESENTED_NORM

# the functions mutation testing plants bugs in (tools/mutate.py; the rest is plumbing or messages)
MUTATE_ONLY = ["PhaseConfig"]

SEED_RULES = ("paper", "best", "mean")


@dataclass(frozen=True)
class PhaseConfig:
    """How the extra feature's (norm, superposition) becomes a phase and a colour."""

    # ||W_extra|| at or below this: not represented (white). Same cut as the table's `represented`.
    norm: float = REPRESENTED_NORM
    # sum_{j != extra} (W_extra_hat . W_j)^2 above this: superposition (red), else dedicated (blue).
    # Trained models are bimodal (about 0 or about 1 for an antipodal pair, 0.5 for a triangle).
    superposition: float = 0.25
    # Continuous colour: saturation reaches full at this norm, hue is fully red at this superposition.
    norm_full: float = 1.0
    superposition_full: float = 0.5

    def __post_init__(self):
        for key in ("norm", "superposition", "norm_full", "superposition_full"):
            if not getattr(self, key) >= 0:
                raise ValueError(f"phase.{key}={getattr(self, key)!r} must be >= 0")
        if self.norm_full <= 0 or self.superposition_full <= 0:
            raise ValueError("phase.norm_full and phase.superposition_full must be > 0")


@dataclass(frozen=True)
class TheoryConfig:
    """Numerical settings for minimising each candidate's closed-form loss over its free parameters."""

    steps: int = 400  # Adam steps (all cells and starts optimised together, one compiled program)
    lr: float = 0.1  # cosine-decayed to lr * 1e-3
    # Then every parameter of the winning candidate's optimum is freed and optimised further (0: off):
    # the candidates constrain symmetry (e.g. mirror-image features), the true optimum need not.
    # A symmetric start stays symmetric, so perturbed copies (normal noise, this scale) start too.
    relax_steps: int = 1000
    relax_lr: float = 0.01
    relax_starts: int = 8
    relax_noise: float = 0.1
    # A candidate within this relative margin of the best wins if it comes first in the candidate list
    # (simpler configurations first), so exact ties do not depend on optimiser noise.
    tie: float = 1e-6


@dataclass(frozen=True)
class AnalysisConfig:
    phase: PhaseConfig = field(default_factory=PhaseConfig)
    theory: TheoryConfig = field(default_factory=TheoryConfig)
    rule: str = "paper"  # seed aggregation: paper (drop the highest-loss seed, mean of the rest) | best | mean
    max_columns: int = 6  # per-density panels shown in the weight figures (evenly picked beyond that)
    max_rows: int = 3  # values of the other varying axes shown in the weight figures
    max_features_heatmap: int = 100  # no W^T W figure for wider models (unreadable)
    formats: tuple = ("png", "svg")

    def __post_init__(self):
        if self.rule not in SEED_RULES:
            raise ValueError(f"rule={self.rule!r} is not one of {', '.join(SEED_RULES)}")
