"""The trainer: the one place where vmap (over models), scan (over steps) and jit are applied.

Every per-model function below sees ONE model; `jax.vmap` stacks them. Nothing reduces over
the model axis, so each model trains exactly as if it were alone.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from tqdm.auto import tqdm

from sweep import checkpoint
from sweep.config import Config, OptimConfig
from sweep.data import sample_features
from sweep.grid import Grid
from sweep.model import ToyModel, importance_weighted_mse


class Hyper(NamedTuple):
    """One model's shape-preserving settings (a row of the grid)."""

    density: jax.Array  # (n,)
    importance: jax.Array  # (n,)
    lr: jax.Array  # ()
    weight_decay: jax.Array  # ()
    key: jax.Array  # this model's random stream


class TrainState(NamedTuple):
    params: dict
    opt_state: optax.OptState


def model_key(seed, stream):
    """Per-model key from its seed and coordinate hash: independent of its neighbours in the grid."""
    return jax.random.fold_in(jax.random.PRNGKey(seed), stream)


def make_optimizer(lr, weight_decay, optim: OptimConfig, steps: int) -> optax.GradientTransformation:
    """AdamW with the notebook's settings; lr/weight_decay may be traced (one value per model)."""
    if optim.schedule == "cosine":
        lr = optax.cosine_decay_schedule(lr, steps)
    elif optim.schedule == "warmup_cosine":
        lr = optax.warmup_cosine_decay_schedule(0.0, lr, optim.warmup_steps, steps)
    return optax.adamw(lr, b1=optim.b1, b2=optim.b2, eps=optim.eps, weight_decay=weight_decay)


@dataclass(frozen=True)
class Trainer:
    """Pure per-model functions for one compiled group (fixed shapes and code)."""

    cfg: Config

    @property
    def model(self) -> ToyModel:
        return ToyModel(self.cfg.model.n_features, self.cfg.model.n_hidden, relu=self.cfg.model.kind == "relu")

    def optimizer(self, hyper: Hyper):
        return make_optimizer(hyper.lr, hyper.weight_decay, self.cfg.optim, self.cfg.steps)

    def init(self, hyper: Hyper) -> TrainState:
        x = jnp.zeros((1, self.cfg.model.n_features))
        params = self.model.init(jax.random.fold_in(hyper.key, 0), x)["params"]
        return TrainState(params, self.optimizer(hyper).init(params))

    def loss(self, params, x, importance):
        return importance_weighted_mse(self.model.apply({"params": params}, x), x, importance)

    def batch(self, key, hyper: Hyper):
        return sample_features(key, hyper.density, self.cfg.batch_size, self.cfg.data.distribution, self.cfg.data.rng)

    def step(self, state: TrainState, hyper: Hyper, step) -> tuple[TrainState, jax.Array]:
        """One AdamW step on a fresh batch drawn from this model's stream at this step."""
        x = self.batch(jax.random.fold_in(jax.random.fold_in(hyper.key, 1), step), hyper)
        loss, grads = jax.value_and_grad(self.loss)(state.params, x, hyper.importance)
        updates, opt_state = self.optimizer(hyper).update(grads, state.opt_state, state.params)
        return TrainState(optax.apply_updates(state.params, updates), opt_state), loss

    def evaluate(self, params, hyper: Hyper):
        """Final loss: mean over `exec.eval_batches` fresh batches from a separate stream."""
        keys = jax.random.split(jax.random.fold_in(hyper.key, 2), self.cfg.exec.eval_batches)
        return jnp.mean(jax.lax.map(lambda k: self.loss(params, self.batch(k, hyper), hyper.importance), keys))


def stacked_hyper(grid: Grid) -> Hyper:
    keys = jax.vmap(model_key)(jnp.asarray(grid.seed), jnp.asarray(grid.stream))
    return Hyper(
        jnp.asarray(grid.density), jnp.asarray(grid.importance), jnp.asarray(grid.lr), jnp.asarray(grid.weight_decay), keys
    )


def compile_group(trainer: Trainer):
    """The jitted, vmapped programs for one group: init, a scan of steps, final evaluation."""
    init = jax.jit(jax.vmap(trainer.init))

    @jax.jit
    def run_steps(state: TrainState, hyper: Hyper, steps: jax.Array):
        def body(state, step):
            return jax.vmap(trainer.step, in_axes=(0, 0, None))(state, hyper, step)

        state, losses = jax.lax.scan(body, state, steps)  # losses: (len(steps), G)
        return state, losses.mean(axis=0)

    evaluate = jax.jit(jax.vmap(trainer.evaluate))
    return init, run_steps, evaluate


def _pad_to(array, multiple: int):
    """Repeat the last model so the model axis divides evenly over devices (padding is dropped after)."""
    pad = (-array.shape[0]) % multiple
    return array if pad == 0 else jnp.concatenate([array, jnp.repeat(array[-1:], pad, axis=0)])


def shard_models(tree, devices):
    """Split the leading (model) axis of every leaf over `devices` (unchanged on one device)."""
    if len(devices) == 1:
        return tree
    mesh = Mesh(np.asarray(devices), ("models",))
    sharding = NamedSharding(mesh, PartitionSpec("models"))
    return jax.tree.map(lambda a: jax.device_put(_pad_to(a, len(devices)), sharding), tree)


@dataclass
class TrainResult:
    W: np.ndarray  # (G, n_hidden, n_features)
    b: np.ndarray  # (G, n_features)
    final_loss: np.ndarray  # (G,)
    history_steps: np.ndarray  # (T,) last step of each logged interval
    history_loss: np.ndarray  # (T, G) mean training loss over each interval
    seconds: float
    compile_seconds: float
    resumed_from_step: int = 0


def train_grid(cfg: Config, grid: Grid, progress: bool | None = None, devices=None,
               checkpoint_path=None, fingerprint: str = "") -> TrainResult:
    """Train every model of `grid` (one compiled group) and return numpy results.

    With `checkpoint_path`, the state is saved every `exec.checkpoint_every` steps and a matching
    checkpoint found there is resumed from.
    """
    devices = jax.devices() if devices is None else devices
    n_models = len(grid)
    progress = cfg.exec.progress if progress is None else progress
    init, run_steps, evaluate = compile_group(Trainer(cfg))
    unpad = lambda tree: jax.tree.map(lambda a: np.asarray(a)[:n_models], tree)  # noqa: E731
    hyper = shard_models(stacked_hyper(grid), devices)
    start = time.perf_counter()
    state = init(hyper)
    first_step, history_steps, history_loss = 0, [], []
    restored = checkpoint.load(checkpoint_path, state, fingerprint) if checkpoint_path else None
    if restored:
        saved, first_step, history_steps, history_loss = restored
        state = shard_models(jax.tree.map(jnp.asarray, saved), devices)
    last_saved, compile_seconds = first_step, None
    with tqdm(total=cfg.steps, initial=first_step, unit="step", disable=not progress, desc=f"{n_models} models") as bar:
        for first in range(first_step, cfg.steps, cfg.exec.log_every):
            steps = jnp.arange(first, min(first + cfg.exec.log_every, cfg.steps))
            chunk_start = time.perf_counter()
            state, losses = run_steps(state, hyper, steps)
            losses = np.asarray(losses)  # blocks until the chunk is done
            if compile_seconds is None:
                compile_seconds = time.perf_counter() - start
            history_steps.append(int(steps[-1]))
            history_loss.append(losses[:n_models])
            done = int(steps[-1]) + 1
            if checkpoint_path and cfg.exec.checkpoint_every and done - last_saved >= cfg.exec.checkpoint_every and done < cfg.steps:
                checkpoint.save(checkpoint_path, unpad(state), done, history_steps, history_loss, fingerprint)
                last_saved = done
            bar.update(len(steps))
            rate = len(steps) / max(time.perf_counter() - chunk_start, 1e-9)
            bar.set_postfix(model_steps_per_s=f"{rate * n_models:,.0f}", loss=f"{np.nanmean(losses):.3g}")
    final_loss = np.asarray(evaluate(state.params, hyper))[:n_models]
    params = unpad(state.params)
    return TrainResult(
        W=params["W"],
        b=params["b"],
        final_loss=final_loss,
        history_steps=np.asarray(history_steps),
        history_loss=np.stack(history_loss),
        seconds=time.perf_counter() - start,
        compile_seconds=compile_seconds or 0.0,
        resumed_from_step=first_step,
    )
