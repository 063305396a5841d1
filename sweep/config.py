"""Structured configs (one dataclass per concept) and their validation.

Validation lives in ``__post_init__`` so that ``OmegaConf.to_object(cfg)`` is the single
gate every run passes through before anything is compiled or written.

Any field typed ``Any`` may hold one value or a list of values: a list is a *grid axis*
and every combination of the grid axes is trained at once in one vmapped program.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, List, Optional

from hydra.core.config_store import ConfigStore
from omegaconf import ListConfig, OmegaConf

from sweep.identity import PLACEMENT_KEYS, PRESENTATION_KEYS, run_name
from sweep.kinds import KINDS
from sweep.resolvers import RESOLVERS, exact, geomspace  # noqa: F401 (geomspace: sweep.config's API)

MODEL_KINDS = tuple(KINDS)
DISTRIBUTIONS = ("uniform", "normal", "signed_uniform")
CORRELATIONS = ("none", "correlated", "anticorrelated")
IMPORTANCE_KINDS = ("constant", "geometric", "list", "extra")
SCHEDULES = ("constant", "cosine", "warmup_cosine")
RNGS = ("fast", "threefry")
MAX_TRAIN_SIZE = 2**24  # data.train_size: a minibatch index is floor(u T) of a 24-bit uniform u

# Used when neither `sparsity` nor `density` is given.
DEFAULT_SPARSITY = [0.0, 0.7, 0.8, 0.9, 0.97, 0.99]


class ConfigError(ValueError):
    """A config value outside its allowed range; the message is one line naming the key."""


def as_list(value: Any) -> list:
    """A grid axis as a list: scalars become one-element lists."""
    if value is None:
        return []
    if isinstance(value, (list, tuple, ListConfig)):
        return list(value)
    return [value]


def _number(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{key}={value!r} must be a number")
    if not math.isfinite(value):
        raise ConfigError(f"{key}={value!r} must be finite")
    return float(value)


def check_range(key: str, value: Any, low: float, high: float, low_open=False, high_open=False) -> None:
    """Raise a one-line ConfigError unless every value of `value` (scalar or list) lies in range."""
    values = as_list(value)
    if not values:
        raise ConfigError(f"{key} is an empty list; give at least one value")
    for v in values:
        x = _number(key, v)
        too_low = x <= low if low_open else x < low
        too_high = x >= high if high_open else x > high
        if too_low or too_high:
            lo = f"({low}" if low_open else f"[{low}"
            hi = f"{high})" if high_open else f"{high}]"
            raise ConfigError(f"{key}={v!r} is outside the allowed range {lo}, {hi}")


def check_choice(key: str, value: Any, allowed: tuple) -> None:
    if value not in allowed:
        raise ConfigError(f"{key}={value!r} is not one of {', '.join(allowed)}")


def check_int(key: str, value: Any, low: int) -> None:
    if isinstance(value, (list, tuple, ListConfig)) and not value:
        raise ConfigError(f"{key} is an empty list; give at least one value")
    for v in as_list(value) or [None]:
        if isinstance(v, bool) or not isinstance(v, int) or v < low:
            raise ConfigError(f"{key}={v!r} must be an integer >= {low}")


@dataclass
class ModelConfig:
    kind: str = "relu"  # relu | linear | privileged | abs: what each is, in sweep/kinds.py (KINDS)
    n_features: int = 5  # n
    n_hidden: int = 2  # m

    def __post_init__(self):
        check_choice("model.kind", self.kind, MODEL_KINDS)
        check_int("model.n_features", self.n_features, 1)
        check_int("model.n_hidden", self.n_hidden, 1)


@dataclass
class DataConfig:
    # uniform: a present feature is U[0,1] (the paper); normal: N(0,1), signed; signed_uniform: U[-1,1]
    # (the paper's computation-in-superposition data, model.kind=abs).
    distribution: str = "uniform"
    # fast: counter-based hash keyed per step by threefry (see sweep/data.py); threefry: jax.random.
    rng: str = "fast"
    # Optional per-feature sparsity (length n_features); replaces the scalar `sparsity` axis.
    feature_sparsity: Optional[List[float]] = None
    # Features 0..k-1, k..2k-1, ... form sets of k = set_size (docs/experiments/correlated.md). none: independent features;
    # correlated: one draw per set decides whether the whole set is zero (probability S), the present values are
    # independent; anticorrelated: the whole set is zero with probability S, else exactly one of its features
    # (uniformly chosen) is present.
    correlation: str = "none"
    set_size: int = 1
    # Finite training sets (docs/experiments/kgon_census.md). 0: a fresh batch every step (the paper's infinite data).
    # T > 0: each model draws T samples once from its own data stream and trains on minibatches of `batch_size` drawn
    # from them uniformly with replacement; its `train_loss` (on the T samples) is stored beside `loss` (fresh
    # samples). A grid axis: a list of T > 0 fuses into one program (the sets padded to the largest T).
    train_size: Any = 0

    def __post_init__(self):
        check_choice("data.distribution", self.distribution, DISTRIBUTIONS)
        check_choice("data.rng", self.rng, RNGS)
        check_choice("data.correlation", self.correlation, CORRELATIONS)
        check_int("data.set_size", self.set_size, 1)
        check_int("data.train_size", self.train_size, 0)
        check_range("data.train_size", self.train_size, 0, MAX_TRAIN_SIZE)
        sizes = as_list(self.train_size)
        if len(sizes) > 1 and 0 in sizes:
            raise ConfigError(f"data.train_size={sizes} mixes 0 (a fresh batch every step) with finite sets; "
                              "give 0 alone or only sizes >= 1")
        if self.feature_sparsity is not None:
            check_range("data.feature_sparsity", self.feature_sparsity, 0.0, 1.0, high_open=True)


@dataclass
class ImportanceConfig:
    """Per-feature importance. Scalar parameters may be lists (grid axes)."""

    kind: str = "geometric"  # constant | geometric (decay**i) | list (values) | extra
    decay: Any = 0.9  # geometric: importance_i = decay**i
    value: Any = 1.0  # constant: every feature has this importance
    relative: Any = 1.0  # extra: features 0..n-2 have importance 1, the last one `relative`
    values: Optional[List[float]] = None  # list: explicit per-feature importances

    def __post_init__(self):
        check_choice("importance.kind", self.kind, IMPORTANCE_KINDS)
        check_range("importance.decay", self.decay, 0.0, math.inf)
        check_range("importance.value", self.value, 0.0, math.inf)
        check_range("importance.relative", self.relative, 0.0, math.inf)
        if self.kind == "list":
            if self.values is None:
                raise ConfigError("importance.values must be given when importance.kind=list")
            check_range("importance.values", self.values, 0.0, math.inf)


@dataclass
class OptimConfig:
    """AdamW as in the paper's notebook (torch defaults, weight decay 0.01)."""

    lr: Any = 1e-3
    weight_decay: Any = 0.01
    b1: float = 0.9
    b2: float = 0.999
    eps: float = 1e-8
    schedule: str = "constant"  # constant | cosine | warmup_cosine
    warmup_steps: int = 0

    def __post_init__(self):
        check_range("optim.lr", self.lr, 0.0, math.inf, low_open=True)
        check_range("optim.weight_decay", self.weight_decay, 0.0, math.inf)
        check_range("optim.b1", self.b1, 0.0, 1.0, high_open=True)
        check_range("optim.b2", self.b2, 0.0, 1.0, high_open=True)
        check_range("optim.eps", self.eps, 0.0, math.inf, low_open=True)
        check_choice("optim.schedule", self.schedule, SCHEDULES)
        check_int("optim.warmup_steps", self.warmup_steps, 0)


@dataclass
class ExecConfig:
    """How the grid is executed and measured. No key here changes a model's trained weights. Three kinds of key:
    [kept] what is measured or kept besides the weights (the final loss, the loss curve, snapshots): part of the
    fingerprint (sweep/identity.py); [placement] where a multirun's job sits (PLACEMENT_KEYS); [presentation]
    never changes a result (PRESENTATION_KEYS): left out of the fingerprint and the run name."""

    log_every: int = 500  # [kept] steps per jitted scan call (progress bar / loss-curve resolution)
    eval_batches: int = 32  # [kept] final loss = mean over this many evaluation batches (at least) ...
    eval_rel_se: float = 0.02  # [kept] ... doubled while any finite model's standard error is above this fraction of its loss
    eval_max_batches: int = 1024  # [kept] ... up to this many
    chunk: int = 0  # [placement] which slice of the grid this job trains (set by the fused sweeper)
    n_chunks: int = 1  # [placement]
    checkpoint_every: int = 2000  # [presentation] save the train state every this many steps (0: never)
    progress: bool = True  # [presentation]
    plots: bool = True  # [presentation] draw the analysis figures after training
    dry_run: bool = False  # [presentation] print the plan (models, jobs, memory, programs); compile and write nothing
    reuse_other_code: bool = False  # [presentation] reuse a complete run of this config made by another sweep/
    # [kept] keep every model's weights after this many log-spaced steps from 1 to `steps` (snapshots.npz; 0: none):
    # the learning dynamics (docs/experiments/dynamics.md). The weights are the same; the snapshot steps add points to the loss
    # curve (history.parquet). Costs 4 (m n + n) bytes a model a snapshot (4 (2 m n + n) untied)
    snapshots: int = 0

    def __post_init__(self):
        check_int("exec.log_every", self.log_every, 1)
        check_int("exec.eval_batches", self.eval_batches, 1)
        check_range("exec.eval_rel_se", self.eval_rel_se, 0.0, math.inf)
        check_int("exec.eval_max_batches", self.eval_max_batches, self.eval_batches)
        check_int("exec.n_chunks", self.n_chunks, 1)
        check_int("exec.chunk", self.chunk, 0)
        check_int("exec.checkpoint_every", self.checkpoint_every, 0)
        check_int("exec.snapshots", self.snapshots, 0)
        if self.chunk >= self.n_chunks:
            raise ConfigError(f"exec.chunk={self.chunk} is outside the allowed range [0, {self.n_chunks - 1}]")


@dataclass
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    importance: ImportanceConfig = field(default_factory=ImportanceConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    exec: ExecConfig = field(default_factory=ExecConfig)
    # Grid axes: a value or a list. Give sparsity S or density 1-S, not both.
    sparsity: Any = None
    density: Any = None
    seed: Any = 0
    batch_size: int = 1024
    steps: int = 10_000

    def __post_init__(self):
        if self.sparsity is not None and self.density is not None:
            raise ConfigError(
                f"sparsity={self.sparsity!r} and density={self.density!r} are both set; give one (density = 1 - sparsity)"
            )
        if self.data.feature_sparsity is not None:
            if self.sparsity is not None or self.density is not None:
                raise ConfigError("data.feature_sparsity replaces sparsity/density; set sparsity=null density=null")
            if len(self.data.feature_sparsity) != self.model.n_features:
                raise ConfigError(
                    f"data.feature_sparsity has {len(self.data.feature_sparsity)} values; "
                    f"model.n_features={self.model.n_features} needs that many"
                )
        if self.sparsity is not None:
            check_range("sparsity", self.sparsity, 0.0, 1.0, high_open=True)
        if self.density is not None:
            check_range("density", self.density, 0.0, 1.0, low_open=True)
        check_int("seed", self.seed, 0)
        check_int("batch_size", self.batch_size, 1)
        check_int("steps", self.steps, 1)
        if self.exec.snapshots > self.steps:
            raise ConfigError(f"exec.snapshots={self.exec.snapshots} is outside the allowed range [0, steps={self.steps}]")
        if self.optim.warmup_steps > self.steps:
            raise ConfigError(f"optim.warmup_steps={self.optim.warmup_steps} is outside the allowed range [0, {self.steps}]")
        if self.importance.kind == "list" and len(self.importance.values) != self.model.n_features:
            raise ConfigError(
                f"importance.values has {len(self.importance.values)} values; "
                f"model.n_features={self.model.n_features} needs that many"
            )
        if self.model.n_features % self.data.set_size:
            raise ConfigError(f"data.set_size={self.data.set_size} must divide model.n_features={self.model.n_features}")
        if self.data.feature_sparsity is not None and self.data.correlation != "none":
            k = self.data.set_size
            fs = list(self.data.feature_sparsity)
            if any(len(set(fs[i:i + k])) > 1 for i in range(0, len(fs), k)):
                raise ConfigError(f"data.feature_sparsity must be equal within each set of data.set_size={k} features "
                                  f"when data.correlation={self.data.correlation} (a set is zero or not as a whole)")
        if KINDS[self.model.kind].on_abs and self.data.distribution == "uniform":
            raise ConfigError(f"model.kind={self.model.kind} computes |x| and needs signed features: set "
                              "data.distribution=signed_uniform (the paper's U[-1,1]) or normal (with uniform U[0,1] "
                              "values |x| = x)")
        if self.importance.kind == "extra" and self.model.n_features < 2:
            raise ConfigError("importance.kind=extra needs model.n_features >= 2")

    def densities(self) -> list:
        """The density axis: sparsity, density or data.feature_sparsity converted to density here, once.

        One entry per value of the axis: a float (every feature's density) or, with data.feature_sparsity, a tuple
        (each feature's); 12 significant digits (`exact`: 1 - 0.99 is 0.01). Everything downstream sees density only."""
        if self.data.feature_sparsity is not None:
            return [tuple(exact(1.0 - float(s)) for s in self.data.feature_sparsity)]
        if self.density is not None:
            return [exact(d) for d in as_list(self.density)]
        return [exact(1.0 - float(s)) for s in (as_list(self.sparsity) if self.sparsity is not None else DEFAULT_SPARSITY)]


def register_configs() -> None:
    ConfigStore.instance().store(name="base_config", node=Config)
    OmegaConf.register_new_resolver("run_name", run_name, replace=True)
    for name, resolver in RESOLVERS.items():  # grids in one value: sweep/resolvers.py
        OmegaConf.register_new_resolver(name, resolver, replace=True)
    OmegaConf.register_new_resolver("unless_dry_run", lambda dry_run, value: None if dry_run else value, replace=True)
    # conf/config.yaml's override_dirname.exclude_keys: the run name ignores exactly these keys
    OmegaConf.register_new_resolver("run_name_ignores", lambda: [*PRESENTATION_KEYS, *PLACEMENT_KEYS], replace=True)


register_configs()


def build(*overrides) -> Config:
    """A validated Config from the schema's defaults and nested override dicts (or DictConfigs), merged in order.

    The one way to build a Config in code (tests, benchmarks); `python -m sweep.run` gets the same
    validation from Hydra's composed config through `OmegaConf.to_object`.
    """
    return OmegaConf.to_object(OmegaConf.merge(OmegaConf.structured(Config), *overrides))
