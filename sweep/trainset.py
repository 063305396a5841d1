"""Finite training sets (data.train_size = T > 0): each data stream draws T samples once and its models train on
minibatches drawn from them. The trainer (sweep/train.py) calls these with itself as `trainer`.

Fusing: a group's streams may have different T, so every stream's set is padded to the group's largest T
(`trainer.train_max`) and only its first T samples are ever read. The set is drawn as whole batches of batch_size
at counters 0, 1, ... of its own key, so its first T samples are the same whatever the padding: a model trains
exactly as alone. The set is a function of the stream's key only, drawn again where needed (each jitted scan, the
final train loss), so nothing about it is checkpointed and a resumed run reads the same samples.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from sweep.data import uniform

# the functions mutation testing plants bugs in (tools/mutate.py)
MUTATE_ONLY = ["training_set", "minibatch", "_per_sample", "train_losses"]

SET_LABEL = 2  # fold_in(stream key, 2): the training set; 1 is the per-step batches (sweep/train.py)


def training_set(trainer, stream):
    """The stream's training set padded to trainer.train_max samples: (n, train_max)."""
    count = -(-trainer.train_max // trainer.cfg.batch_size)
    key = jax.random.fold_in(stream.key, SET_LABEL)
    blocks = jax.vmap(lambda j: trainer.batch(jax.random.fold_in(key, j), stream))(jnp.arange(count))  # (count, n, B)
    return jnp.moveaxis(blocks, 0, 1).reshape(blocks.shape[1], -1)[:, :trainer.train_max]


def minibatch(trainer, key, stream, train_x):
    """batch_size samples of the stream's first T = stream.train_size, uniformly with replacement: (n, batch_size).

    Index floor(u T) of a 24-bit uniform u (T <= 2^24, sweep/config.py MAX_TRAIN_SIZE)."""
    u = uniform(key, (1, trainer.cfg.batch_size), trainer.cfg.data.rng, features_first=True)[0]
    return train_x[:, jnp.minimum((u * stream.train_size).astype(jnp.int32), stream.train_size - 1)]


def _per_sample(trainer, params, hyper, stream):
    """(K models, train_max) losses on each sample of the stream's set, one sample at a time."""
    train_x = training_set(trainer, stream)

    def one(p, importance):
        return jax.vmap(lambda x: trainer.loss(p, x[:, None], importance), in_axes=1)(train_x)

    return jax.vmap(one)(params, hyper.importance)


def train_losses(trainer, params, stacked, unpad, sizes) -> np.ndarray:
    """Every model's loss on its own T = sizes (G,) training samples, (G,): the per-sample losses on the device, their mean over
    the first T on the host (float64), so that the padding neither enters nor changes the rounding."""
    program = jax.jit(lambda params, stacked: jax.lax.map(lambda s: _per_sample(trainer, *s),
                                                          (params, stacked.hyper, stacked.stream)))
    per_sample = unpad(program(params, stacked))  # (G, train_max)
    return np.asarray([row[:t].mean(dtype=np.float64) for row, t in zip(per_sample, sizes)], np.float32)
