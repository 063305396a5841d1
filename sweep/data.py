"""Synthetic sparse features: each is 0 with probability S (sparsity), else drawn from the value law.

Random numbers dominate the cost of a training step (a 1024 x 20 batch needs 20k uniforms
for ~1 MFLOP of model). JAX's threefry costs ~40 integer ops per 32-bit word, so the default
`fast` generator takes one 64-bit threefry key per model and step and expands it with a
counter-based hash (two rounds of C. Wellons' `triple32`, ~14 ops per word, 6x faster here).
It is a pure function of (key, entry index), so vmapped models draw exactly what they would
draw alone. `rng=threefry` keeps JAX's generator for comparison.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import jax
import jax.numpy as jnp

# the functions mutation testing plants bugs in (tools/mutate.py; the rest is plumbing or messages)
MUTATE_ONLY = ["fast_uniform", "uniform", "draw", "features", "sample_features"]

if TYPE_CHECKING:
    from sweep.shapes import Batch, BatchT, PerFeature


def triple32(x):
    """Wellons' low-bias 32-bit integer hash (a bijection on uint32)."""
    x = x ^ (x >> 17)
    x = x * jnp.uint32(0xED5AD4BB)
    x = x ^ (x >> 11)
    x = x * jnp.uint32(0xAC4C1B51)
    x = x ^ (x >> 15)
    x = x * jnp.uint32(0x31848BAB)
    return x ^ (x >> 14)


def fast_uniform(key, shape, features_first: bool = False):
    """U[0, 1) float32 with 24 random bits, hashed from a counter under a 64-bit key.

    Entry (b, i) of a (batch, features) array is counter b * features + i. With `features_first`,
    `shape` is (features, batch) and the result is the transpose of the (batch, features) draw,
    made directly in that layout (the batch axis contiguous).
    """
    k = jax.random.bits(key, (2,), jnp.uint32)
    if features_first:
        n, batch = shape
        index = jnp.arange(batch, dtype=jnp.uint32)[None, :] * jnp.uint32(n) + jnp.arange(n, dtype=jnp.uint32)[:, None]
    else:
        index = jnp.arange(shape[0] * shape[1], dtype=jnp.uint32).reshape(shape)
    bits = triple32(triple32(index ^ k[0]) ^ k[1])
    return (bits >> 8).astype(jnp.float32) * (1.0 / (1 << 24))


def uniform(key, shape, rng: str = "fast", features_first: bool = False):
    if rng == "fast":
        return fast_uniform(key, shape, features_first)
    return jax.random.uniform(key, shape[::-1]).T if features_first else jax.random.uniform(key, shape)


class Draw(NamedTuple):
    """The random part of a batch, a function of its key only: the density acts on it afterwards (`features`)."""

    u: jax.Array  # U[0, 1), one per entry, in the batch's layout
    normal: jax.Array | None  # N(0, 1) values (distribution=normal), same layout; None otherwise


def draw(key, n: int, batch_size: int, distribution: str = "uniform", rng: str = "fast", features_first: bool = False,
         correlation: str = "none") -> Draw:
    """What `sample_features` draws for a (batch_size, n) batch (with `features_first` or a correlation: its
    (n, batch_size) transpose), before any density: every density applied to one draw (common random numbers)."""
    transposed = features_first or correlation != "none"
    u = uniform(key, (n, batch_size) if transposed else (batch_size, n), rng, transposed)
    if distribution in ("uniform", "signed_uniform"):
        return Draw(u, None)
    values = jax.random.normal(jax.random.fold_in(key, 1), (batch_size, n))
    return Draw(u, values.T if transposed else values)


def features(d: Draw, density: PerFeature, distribution: str = "uniform", features_first: bool = False,
             correlation: str = "none", set_size: int = 1) -> Batch | BatchT:
    """The batch of `density` (n,) from the draw d (as `sample_features` documents)."""
    if correlation != "none":
        x_t = _set_features(d.u, density, correlation, set_size, d.normal, signed=distribution == "signed_uniform")
        return x_t if features_first else x_t.T
    if features_first:
        density = density[:, None]
    present = d.u < density
    if distribution == "uniform":
        return jnp.where(present, d.u / density, 0.0)
    if distribution == "signed_uniform":  # U[-1, 1) from the same draw: 2 u / density - 1
        return jnp.where(present, 2.0 * d.u / density - 1.0, 0.0)
    return jnp.where(present, d.normal, 0.0)


def sample_features(key, density: PerFeature, batch_size: int, distribution: str = "uniform", rng: str = "fast",
                    features_first: bool = False, correlation: str = "none", set_size: int = 1) -> Batch | BatchT:
    """A (batch_size, n_features) batch; density (n_features,) = 1 - sparsity per feature.

    Uniform values use one draw per entry for both the mask and the value: u < density marks
    the feature present, and then u / density is U[0, 1). With `features_first` the same batch
    comes as its (n_features, batch_size) transpose (the trainer's layout). With a `correlation`,
    features form sets of `set_size` (see `_set_features`). It is `features(draw(key, ...), density, ...)`:
    the random numbers depend on the key only, so batches of one key at two densities share them.
    """
    d = draw(key, density.shape[-1], batch_size, distribution, rng, features_first, correlation)
    return features(d, density, distribution, features_first, correlation, set_size)


def _set_features(u, density, correlation: str, k: int, normal=None, signed: bool = False):
    """Features in sets of k (features sk .. sk+k-1), from one uniform draw u (n, batch): (n, batch).

    The set's first entry u_0 decides for the whole set: the set is present when u_0 < d (d: the
    density of its first feature). correlated: every feature of a present set is non-zero, the first
    with value u_0 / d, feature j > 0 with its own u_j (independent of u_0). anticorrelated: only
    feature c = floor(k u_0 / d) is non-zero, with value u_c for c > 0 and u_1 for c = 0 (entries that
    decided nothing; for k = 1 it is u_0 / d). With k = 1 both laws are the independent one, bit for bit.
    `normal` (n, batch), if given, replaces the U[0, 1) values of the present features; `signed` maps them
    to U[-1, 1) (2 v - 1).
    """
    n, batch = u.shape
    sets = u.reshape(n // k, k, batch)
    d = density.reshape(n // k, k)[:, :1, None]  # (sets, 1, 1)
    first = sets[:, :1]  # (sets, 1, batch)
    present = first < d
    scaled = first / d  # U[0, 1) given present
    index = jnp.arange(k)[None, :, None]
    if correlation == "correlated":
        on = jnp.broadcast_to(present, sets.shape)
        values = jnp.where(index == 0, scaled, sets)
    else:
        chosen = jnp.minimum(jnp.floor(scaled * k), k - 1)
        on = present & (index == chosen)
        values = jnp.where(index == 0, sets[:, 1:2], sets) if k > 1 else scaled
    if normal is not None:
        values = normal.reshape(sets.shape)
    if signed:
        values = 2.0 * values - 1.0
    return jnp.where(on, values, 0.0).reshape(n, batch)
