"""The SAE stage's structured config (conf/sae.yaml) and its one-line checks (sweep.config.ConfigError, exit 2).

A list in `arch` or `dict_size` is one compiled program per architecture and size; lists in `l1` (arch=l1),
`k` (arch=topk) and `seed` are vmapped inside each program. `run` names a finished run dir (or a multirun dir: each
run in it); without `run` the activations are Sharkey-style synthetic ones (`synthetic`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import ListConfig

from sweep.config import ConfigError, as_list, check_choice, check_int, check_range
from sweep.sae.model import ARCHS

SELECTIONS = ("all", "best")


@dataclass
class SAEConfig:
    arch: Any = "l1"  # l1: ReLU latents + L1 penalty; topk: the k largest ReLU latents, no penalty; a list: each
    dict_size: Any = 8  # latents L (a shape: each value its own program)
    l1: Any = 0.01  # L1 coefficient (arch=l1), vmapped
    k: Any = 2  # active latents (arch=topk), vmapped
    seed: Any = 0  # SAE seed (init and batches), vmapped
    steps: int = 5000
    batch_size: int = 1024
    lr: float = 1e-3  # Adam (not AdamW: no weight decay on a dictionary), torch's defaults otherwise
    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8
    eval_batch: int = 16384  # samples of the one evaluation batch the scores are computed on
    select: str = "all"  # all: every model of the run; best: each cell's lowest-loss seed
    recovered_cos: float = 0.9  # a true feature counts as recovered when an atom has cosine above this
    log_every: int = 500
    checkpoint_every: int = 2000  # 0: never
    progress: bool = True

    def __post_init__(self):
        if isinstance(self.arch, (list, tuple, ListConfig)) and not self.arch:
            raise ConfigError("sae.arch is an empty list; give at least one of " + ", ".join(ARCHS))
        for arch in as_list(self.arch):
            check_choice("sae.arch", arch, ARCHS)
        check_int("sae.dict_size", self.dict_size, 1)
        check_range("sae.l1", self.l1, 0.0, math.inf)
        check_int("sae.k", self.k, 1)
        if "topk" in as_list(self.arch) and max(as_list(self.k)) > min(as_list(self.dict_size)):
            raise ConfigError(f"sae.k={self.k} must be at most sae.dict_size={self.dict_size} (k <= latents)")
        check_int("sae.seed", self.seed, 0)
        for key in ("steps", "batch_size", "eval_batch", "log_every"):
            check_int(f"sae.{key}", getattr(self, key), 1)
        check_int("sae.checkpoint_every", self.checkpoint_every, 0)
        check_range("sae.lr", self.lr, 0.0, math.inf, low_open=True)
        check_range("sae.b1", self.b1, 0.0, 1.0, high_open=True)
        check_range("sae.b2", self.b2, 0.0, 1.0, high_open=True)
        check_range("sae.eps", self.eps, 0.0, math.inf, low_open=True)
        check_choice("sae.select", self.select, SELECTIONS)
        check_range("sae.recovered_cos", self.recovered_cos, 0.0, 1.0)

    def coeffs(self) -> list:
        """The vmapped coefficient axis of one architecture: L1 coefficients (arch=l1) or k values (arch=topk)."""
        return [float(c) for c in as_list(self.l1)] if self.arch == "l1" else [int(k) for k in as_list(self.k)]

    def per_arch(self) -> list[SAEConfig]:
        """One config per architecture of `arch` (a list trains each, one program per arch and dictionary size)."""
        return [replace(self, arch=str(arch)) for arch in as_list(self.arch)]


@dataclass
class SyntheticConfig:
    """Sharkey et al. 2022-style activations: G unit directions in d dims, feature i present with probability
    p_i proportional to decay^i (scaled so that sum p_i = mean_active), value U[0, 1) when present."""

    d: int = 256
    n_features: int = 512  # G
    mean_active: float = 5.0
    decay: float = 0.99
    seed: Any = 0  # each seed is its own set of directions (a "model")

    def __post_init__(self):
        check_int("synthetic.d", self.d, 1)
        check_int("synthetic.n_features", self.n_features, 1)
        check_range("synthetic.mean_active", self.mean_active, 0.0, self.n_features, low_open=True)
        check_range("synthetic.decay", self.decay, 0.0, 1.0, low_open=True)
        check_int("synthetic.seed", self.seed, 0)


@dataclass
class StageConfig:
    run: Optional[str] = None  # a finished run (or multirun) dir; None: synthetic activations
    out: Optional[str] = None  # where the SAE results go (default RUN/sae, or outputs/sae_synthetic)
    sae: SAEConfig = field(default_factory=SAEConfig)
    synthetic: SyntheticConfig = field(default_factory=SyntheticConfig)


ConfigStore.instance().store(name="sae_schema", node=StageConfig)
