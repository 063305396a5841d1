"""The trainer: the one place where vmap (over models), scan (over steps) and jit are applied.

Every per-model function below sees ONE model; `jax.vmap` stacks them. Nothing reduces over
the model axis, so each model trains exactly as if it were alone.

Common random numbers: a model's batches depend only on its seed and density (its data
stream), so the K models of a block that differ only in importance, lr or weight decay see the same batch at every
step. The stack is (U streams, K models): each step makes one batch per stream and vmaps the K models' steps over it
(K = 1: every model has its own). A step's random numbers depend on the seed alone and a density thresholds them
(sweep/data.py `draw`, `features`), so a seed's numbers are drawn once for all its streams where that costs less
(`Draws`), and each evaluation batch once for every stream. A model trained alone draws exactly what it draws here.
"""
from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from sweep import trainset
from sweep.config import Config, OptimConfig
from sweep.data import Draw, draw, features
from sweep.grid import Grid
from sweep.kinds import KINDS, Kind, Params
from sweep.recorder import Recorder, TrainResult, chunk_plan, final_evaluation

# the functions mutation testing plants bugs in (tools/mutate.py; the rest is plumbing or messages)
MUTATE_ONLY = ["model_key", "data_key", "eval_key", "step_key", "make_optimizer", "Trainer", "stacked_hyper",
               "compile_group", "train_grid", "_pad_to", "shard_models", "place"]

if TYPE_CHECKING:
    from sweep.shapes import BatchT, PerFeature


class Hyper(NamedTuple):
    """One model's own shape-preserving settings (a row of the grid)."""

    importance: jax.Array  # (n,)
    lr: jax.Array  # ()
    weight_decay: jax.Array  # ()
    key: jax.Array  # this model's initialisation stream


class Stream(NamedTuple):  # one data stream: what shapes a model's data (seed, density), shared by a block of models
    density: jax.Array  # (n,)
    key: jax.Array  # training batches' random numbers: a function of the seed only (data_key)
    train_size: jax.Array  # () data.train_size: T samples drawn once, minibatches drawn from them (0: fresh batches)


class Draws(NamedTuple):  # the S seeds of a stack, when their numbers are drawn once per step for all their streams
    key: jax.Array  # (S,) each seed's data_key, replicated on every device
    index: jax.Array  # (U,) the seed of each stream: an index into key


class Stacked(NamedTuple):
    """A grid as U streams x K models: hyper leaves are (U, K, ...), stream leaves (U, ...); draws None: per stream."""

    hyper: Hyper
    stream: Stream
    draws: Draws | None = None


class TrainState(NamedTuple):
    params: Params
    opt_state: optax.OptState


EVAL_LABEL, DATA_LABEL = zlib.crc32(b"eval"), zlib.crc32(b"data")


def model_key(seed, stream):
    """Per-model key from its seed and coordinate hash: independent of its neighbours in the grid."""
    return jax.random.fold_in(jax.random.PRNGKey(seed), stream)


def data_key(seed):
    """Key of a model's training batches' random numbers: its seed only (its density thresholds them)."""
    return jax.random.fold_in(jax.random.PRNGKey(seed), DATA_LABEL)


def step_key(key, step):
    """The key of one step's batch in the stream of `key`."""
    return jax.random.fold_in(jax.random.fold_in(key, 1), step)


def eval_key():
    """Key of the final evaluation batches' random numbers: the same for every seed and density."""
    return jax.random.fold_in(jax.random.PRNGKey(0), EVAL_LABEL)


def make_optimizer(lr, weight_decay, optim: OptimConfig, steps: int) -> optax.GradientTransformation:
    """AdamW with the notebook's settings; lr/weight_decay may be traced (one value per model)."""
    if optim.schedule == "cosine":
        lr = optax.cosine_decay_schedule(lr, steps)
    elif optim.schedule == "warmup_cosine":
        # the unit schedule times lr: optax's own would branch in Python on a traced (per-model) peak lr
        unit, peak = optax.warmup_cosine_decay_schedule(0.0, 1.0, optim.warmup_steps, steps), lr
        lr = lambda count: peak * unit(count)  # noqa: E731
    return optax.adamw(lr, b1=optim.b1, b2=optim.b2, eps=optim.eps, weight_decay=weight_decay)


@dataclass(frozen=True)
class Trainer:
    """Pure functions of ONE model (or one data stream and its block of models) for one compiled group."""

    cfg: Config
    train_max: int = 0  # the group's largest data.train_size: every stream's training set is padded to it

    @property
    def kind(self) -> Kind:
        return KINDS[self.cfg.model.kind]

    def optimizer(self, hyper: Hyper):
        return make_optimizer(hyper.lr, hyper.weight_decay, self.cfg.optim, self.cfg.steps)

    def init(self, hyper: Hyper) -> TrainState:
        params = self.kind.init(jax.random.fold_in(hyper.key, 0), self.cfg.model.n_features, self.cfg.model.n_hidden)
        return TrainState(params, self.optimizer(hyper).init(params))

    def loss(self, params: Params, x_t: BatchT, importance: PerFeature) -> jax.Array:  # x_t: (features, batch)
        return self.kind.loss(params, x_t, importance)

    def draw(self, key) -> Draw:  # the random numbers of one batch (no density yet), features first
        data = self.cfg.data
        return draw(key, self.cfg.model.n_features, self.cfg.batch_size, data.distribution, data.rng, True, data.correlation)

    def features(self, d: Draw, stream: Stream) -> BatchT:  # the stream's (features, batch) batch from the draw d
        data = self.cfg.data
        return features(d, stream.density, data.distribution, True, data.correlation, data.set_size)

    def batch(self, key, stream: Stream) -> BatchT:  # sample_features(key, stream.density, ...), features first
        return self.features(self.draw(key), stream)

    def model_step(self, state: TrainState, hyper: Hyper, x_t: BatchT) -> tuple[TrainState, jax.Array]:  # one AdamW step
        loss, grads = jax.value_and_grad(self.loss)(state.params, x_t, hyper.importance)
        updates, opt_state = self.optimizer(hyper).update(grads, state.opt_state, state.params)
        return TrainState(optax.apply_updates(state.params, updates), opt_state), loss

    def step(self, state: TrainState, hyper: Hyper, stream: Stream, step, train_x=None) -> tuple[TrainState, jax.Array]:
        """One step of the K models of a stream (leading axis): the stream's batch at this step, drawn once (from its
        training set train_x when data.train_size > 0)."""
        key = step_key(stream.key, step)
        x_t = self.batch(key, stream) if train_x is None else trainset.minibatch(self, key, stream, train_x)
        return self.block_step(state, hyper, x_t)

    def block_step(self, state: TrainState, hyper: Hyper, x_t: BatchT) -> tuple[TrainState, jax.Array]:
        """One step of the K models of a stream (leading axis) on their shared batch x_t."""
        if jax.tree.leaves(hyper)[0].shape[0] == 1:
            # K = 1 (nothing shares the stream): step the model without the size-1 vmap, whose batched
            # dots XLA lays out badly (n=20, m=5, 100 models: 1.8x the model-steps/s; docs/speed.md)
            first, expand = (lambda t: jax.tree.map(lambda a: a[0], t)), (lambda t: jax.tree.map(lambda a: a[None], t))
            return expand(self.model_step(first(state), first(hyper), x_t))
        return jax.vmap(self.model_step, in_axes=(0, 0, None))(state, hyper, x_t)

    def shared_draws(self, stacked: Stacked, step) -> Draw:  # each seed's random numbers at this step: (S, n, batch)
        return jax.vmap(lambda key: self.draw(step_key(key, step)))(stacked.draws.key)

    def shared_step(self, state: TrainState, stacked: Stacked, drawn: Draw):  # every stream, on its seed's numbers
        pick = lambda i, stream: self.features(jax.tree.map(lambda a: a[i], drawn), stream)  # noqa: E731
        return jax.vmap(self.block_step)(state, stacked.hyper, jax.vmap(pick)(stacked.draws.index, stacked.stream))

    def eval_losses(self, params, stacked: Stacked, first):
        """Each model's loss on evaluation batches first, first + 1, ... (exec.eval_batches): (U, K, batches)."""
        def one(drawn, i):  # the batch's numbers, drawn once for every stream, a batch ahead (see compile_group)
            x_t = jax.vmap(self.features, in_axes=(None, 0))(drawn, stacked.stream)
            losses = jax.vmap(jax.vmap(self.loss, in_axes=(0, None, 0)))(params, x_t, stacked.hyper.importance)
            return self.draw(jax.random.fold_in(eval_key(), i + 1)), losses

        batches = first + jnp.arange(self.cfg.exec.eval_batches)
        return jnp.moveaxis(jax.lax.scan(one, self.draw(jax.random.fold_in(eval_key(), first)), batches)[1], 0, -1)


def stacked_hyper(grid: Grid, block: int | None = None, devices: int = 1) -> Stacked:
    """The grid as (U streams, K models): K = `block` (default: grid.block_size()) consecutive models share a stream.
    With fewer seeds than streams per device (of `devices`), each seed's numbers are drawn once per step (Draws)."""
    k = grid.block_size() if block is None else block
    u, seed, stream = len(grid) // k, jnp.asarray(grid.seed), jnp.asarray(grid.stream)
    blocked = lambda a: jnp.asarray(a).reshape(u, k, *jnp.shape(a)[1:])  # noqa: E731
    firsts = np.arange(u) * k
    hyper = Hyper(blocked(grid.importance), blocked(grid.lr), blocked(grid.weight_decay),
                  blocked(jax.vmap(model_key)(seed, stream)))
    streams = Stream(jnp.asarray(grid.density[firsts]), jax.vmap(data_key)(seed[firsts]),
                     jnp.asarray(grid.train_size[firsts], jnp.int32))
    seeds, index = np.unique(grid.seed[firsts], return_inverse=True)
    draws = Draws(jax.vmap(data_key)(jnp.asarray(seeds)), jnp.asarray(index, jnp.int32))
    shared = len(seeds) < -(-u // devices) and not grid.train_size.any()  # training sets: each stream draws its own
    return Stacked(hyper, streams, draws if shared else None)


def compile_group(trainer: Trainer):
    """The jitted programs for one group (vmapped over streams, and within a stream over its models):
    init, a scan of steps, and the per-batch losses of the final evaluation."""
    init = jax.jit(lambda stacked: jax.vmap(jax.vmap(trainer.init))(stacked.hyper))

    @jax.jit
    def run_steps(state: TrainState, stacked: Stacked, steps: jax.Array):
        # data.train_size > 0: each stream's training set, drawn once per call (a function of its key only)
        train_x = jax.vmap(lambda stream: trainset.training_set(trainer, stream))(stacked.stream) \
            if trainer.train_max else None

        def body(state, step):
            return jax.vmap(trainer.step, in_axes=(0, 0, 0, None, 0))(state, stacked.hyper, stacked.stream, step,
                                                                        train_x)

        def shared(carry, step):  # a step's shared numbers are drawn one step ahead into the loop's carry: a buffer, so
            state, drawn = carry  # XLA cannot fuse the hash into each stream's threshold (once per stream, measured)
            state, losses = trainer.shared_step(state, stacked, drawn)
            return (state, trainer.shared_draws(stacked, step + 1)), losses

        if stacked.draws is None:
            state, losses = jax.lax.scan(body, state, steps)  # losses: (len(steps), U, K)
        else:
            (state, _), losses = jax.lax.scan(shared, (state, trainer.shared_draws(stacked, steps[0])), steps)
        return state, losses.mean(axis=0)

    return init, run_steps, jax.jit(trainer.eval_losses)


def _pad_to(array, multiple: int):
    """Repeat the last model so the model axis divides evenly over devices (padding is dropped after)."""
    pad = (-array.shape[0]) % multiple
    return array if pad == 0 else jnp.concatenate([array, jnp.repeat(array[-1:], pad, axis=0)])


def shard_models(tree, devices):
    """Split the leading (model) axis of every leaf over `devices` (unchanged on one device)."""
    if len(devices) == 1:
        return tree
    sharding = NamedSharding(Mesh(np.asarray(devices), ("models",)), PartitionSpec("models"))
    return jax.tree.map(lambda a: jax.device_put(_pad_to(a, len(devices)), sharding), tree)


def place(stacked: Stacked, devices) -> Stacked:
    """The stack on `devices`: its streams split over them (shard_models), the shared draws' keys on every one."""
    if stacked.draws is None or len(devices) == 1:
        return shard_models(stacked, devices)
    everywhere = NamedSharding(Mesh(np.asarray(devices), ("models",)), PartitionSpec())
    return shard_models(stacked._replace(draws=None), devices)._replace(
        draws=Draws(jax.device_put(stacked.draws.key, everywhere), shard_models(stacked.draws.index, devices)))


def train_grid(cfg: Config, grid: Grid, progress: bool | None = None, devices=None,
               checkpoint_path=None, fingerprint: str = "", block: int | None = None) -> TrainResult:
    """Train every model of `grid` (one compiled group) and return numpy results.

    With `checkpoint_path`, the state is saved every `exec.checkpoint_every` steps and a matching
    checkpoint found there is resumed from. `block`: models per shared data stream (default
    grid.block_size(); a divisor of it, e.g. 1, draws the same batches more often, for testing).
    """
    devices = jax.devices() if devices is None else devices
    block = grid.block_size() if block is None else block
    assert grid.block_size() % block == 0, (block, grid.block_size())
    n_models, n_streams = len(grid), len(grid) // block
    trainer = Trainer(cfg, int(grid.train_size.max(initial=0)))
    init, run_steps, evaluate = compile_group(trainer)
    # (U padded, K, ...) <-> (G, ...): drop the padding streams, flatten streams x models in grid order; and back
    unpad = lambda tree: jax.tree.map(lambda a: np.asarray(a)[:n_streams].reshape(n_models, *a.shape[2:]), tree)  # noqa: E731
    blocked = lambda a: jnp.asarray(a).reshape(n_streams, block, *a.shape[1:])  # noqa: E731
    stacked = place(stacked_hyper(grid, block, len(devices)), devices)
    record = Recorder(cfg, n_models, unpad, checkpoint_path, fingerprint, cfg.exec.progress if progress is None else progress)
    # initialise every model, or take up a checkpoint of this run where it stopped
    state = init(stacked)
    saved = record.resume(state)
    if saved is not None:
        state = shard_models(jax.tree.map(blocked, saved), devices)
    # train: each chunk of the plan is one or more jitted scans of steps, then its bookkeeping
    with record:
        for first, scans in chunk_plan(cfg, record.first_step):
            done, losses = first, []
            for length in scans:
                state, scan_losses = run_steps(state, stacked, jnp.arange(done, done + length))
                losses.append(scan_losses)
                done += length
            record.chunk(state, first, done, scans, losses)
    # evaluate the final weights on the evaluation batches (a stream of their own)
    final_loss, final_loss_se, eval_batches = final_evaluation(evaluate, state.params, stacked, cfg, unpad)
    on_train = trainset.train_losses(trainer, state.params, stacked, unpad, grid.train_size) if trainer.train_max else None
    return TrainResult(params=unpad(state.params), final_loss=final_loss, final_loss_se=final_loss_se,
                       eval_batches=eval_batches, train_loss=on_train, **record.result())
