"""A model kind is one object: its parameters and their initialisation, its forward pass and loss, its memory need.

    relu        x' = ReLU(W^T W x + b)                 the paper's toy model
    linear      x' = W^T W x + b
    privileged  x' = ReLU(W^T ReLU(W x) + b)           a privileged basis of m hidden neurons (docs/experiments/privileged.md)
    abs         y' = ReLU(W2 ReLU(W x) + b), on |x|    untied: W2 is its own (n, m) (docs/experiments/computation.md)

`KINDS[cfg.model.kind]` is the only place that decides what a kind does; nothing else branches on the name.
A model's parameters are one pytree, `Params`: {"W": (m, n), "b": (n,)}, and "W2": (n, m) for an untied kind.
Everything here is ONE model: the trainer applies vmap, scan and jit.

The forward pass works on a (features, batch) array, so the long batch axis is contiguous (measured on the
2-core CPU, n=2..3: ~2x the model-steps/s of (batch, features)). When n <= 2m the Gram matrix W^T W (n x n) is
applied once, fewer flops than W^T (W x) (measured: n=3, m=2 ~1.5x). Writing the products as
broadcast-multiply-sums (so XLA fuses them into one loop) was measured ~20x slower here.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import jax
import jax.numpy as jnp
import numpy as np

from sweep import metrics

if TYPE_CHECKING:
    from sweep.shapes import BatchT, PerFeature

Params = dict  # {"W": (m, n), "b": (n,)} and, untied, "W2": (n, m)
XAVIER = jax.nn.initializers.xavier_normal()  # a normal truncated at 2 std, rescaled to std sqrt(2 / (m + n))


def param_key(key, counter: int):
    """The key of a model's `counter`-th parameter (1: W, 2: b, 3: W2): Flax's stream for a module's parameters
    (flax.core.scope._fold_in_static, the sha1 of the counter), which initialised every earlier run; kept so that
    each model starts where it started then (tests/sweep/test_kinds.py checks it against Flax)."""
    digest = hashlib.sha1(counter.to_bytes((counter.bit_length() + 7) // 8, "big")).digest()
    return jax.random.fold_in(key, jnp.uint32(int.from_bytes(digest[:4], "big")))


def importance_weighted_mse_t(prediction_t: BatchT, target_t: BatchT, importance: PerFeature) -> jax.Array:
    """Mean over batch and features of importance_i * (x_i - x'_i)^2, in the (features, batch) layout."""
    return jnp.mean(importance[:, None] * (target_t - prediction_t) ** 2)


@dataclass(frozen=True)
class Kind:
    name: str
    relu: bool = True  # x' = ReLU(...): an output ReLU
    hidden_relu: bool = False  # h = ReLU(W x): a privileged hidden basis, with a (m, batch) activation to keep
    untied: bool = False  # the output map is its own W2 (n, m), not W^T (W is then the model's W1)
    on_abs: bool = False  # trained on the target |x| (so it needs signed features)
    exact: bool = False  # sweep/exact.py has its closed-form expected loss (uniform values)

    def init(self, key, n_features: int, n_hidden: int) -> Params:
        """Xavier-normal on this model's own matrices (std sqrt(2 / (m + n))), independent of how many models are
        trained beside it (the notebook's init on the stacked tensor is not); a zero bias."""
        params = {"W": XAVIER(param_key(key, 1), (n_hidden, n_features)), "b": jnp.zeros((n_features,))}
        if self.untied:
            params["W2"] = XAVIER(param_key(key, 3), (n_features, n_hidden))
        return params

    def forward(self, params: Params, x_t: BatchT) -> BatchT:
        """The model's output for x_t = x.T, shape (n_features, batch), as (n_features, batch)."""
        W, b = params["W"], params["b"]
        n, m = W.shape[1], W.shape[0]
        if self.untied:
            h = W @ x_t
            out = params["W2"] @ (jax.nn.relu(h) if self.hidden_relu else h)
        elif self.hidden_relu:  # h = ReLU(W x) has no Gram-matrix shortcut
            out = W.T @ jax.nn.relu(W @ x_t)
        else:
            out = (W.T @ W) @ x_t if n <= 2 * m else W.T @ (W @ x_t)
        out = out + b[:, None]
        return jax.nn.relu(out) if self.relu else out

    def target(self, x_t: BatchT) -> BatchT:
        return jnp.abs(x_t) if self.on_abs else x_t

    def loss(self, params: Params, x_t: BatchT, importance: PerFeature) -> jax.Array:
        """The training loss of one model on the (features, batch) batch x_t."""
        return importance_weighted_mse_t(self.forward(params, x_t), self.target(x_t), importance)

    def batch_width(self, n_features: int, n_hidden: int) -> int:
        """Its memory need: the rows of a step's batch tensors (a hidden ReLU keeps its (m, batch) activation for the
        backward pass, so they are n + m wide; sweep/memory.py)."""
        return n_features + n_hidden if self.hidden_relu else n_features

    def neurons(self, params: Params) -> np.ndarray:
        """(..., m, n) bool: feature i is in neuron j (W_ji > 0.5; untied: |W1_ji| after the paper's rescaling)."""
        if self.untied:
            return metrics.abs_neuron_features(params["W"], params["W2"])
        return metrics.neuron_features(params["W"])


KINDS = {kind.name: kind for kind in (
    Kind("relu", exact=True),
    Kind("linear", relu=False),
    Kind("privileged", hidden_relu=True),
    Kind("abs", hidden_relu=True, untied=True, on_abs=True),
)}
