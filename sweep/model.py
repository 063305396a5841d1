"""The toy model x' = ReLU(W^T W x + b) (or without the ReLU; or with a privileged basis, x' = ReLU(W^T ReLU(W x) + b);
or untied, y' = ReLU(W2 ReLU(W x) + b), trained on |x|), and its loss. One model, no batching over models.

`ToyModel` (Flax) defines and initialises the parameters. The trainer evaluates the same model with
`reconstruct`, on a (features, batch) array, so the long batch axis is contiguous (measured on the
2-core CPU, n=2..3: ~2x the model-steps/s of (batch, features)). When n <= 2m the Gram matrix W^T W
(n x n) is applied once, fewer flops than W^T (W x) (measured: n=3, m=2 ~1.5x). Writing the products
as broadcast-multiply-sums (so XLA fuses them into one loop) was measured ~20x slower here.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import flax.linen as nn
import jax
import jax.numpy as jnp

if TYPE_CHECKING:
    from sweep.shapes import Batch, BatchT, PerFeature


class ToyModel(nn.Module):
    """Tied-weight autoencoder; W is (n_hidden, n_features), column W_i embeds feature i."""

    n_features: int
    n_hidden: int
    relu: bool = True
    hidden_relu: bool = False  # model.kind=privileged: h = ReLU(W x), a privileged basis of m neurons
    untied: bool = False  # model.kind=abs: the output map is its own W2 (n, m), not W^T (W is then W1)

    @nn.compact
    def __call__(self, x: Batch) -> Batch:
        # Xavier-normal on this model's own (m, n) matrix: std sqrt(2 / (m + n)), independent of how
        # many models are trained beside it (the notebook's init on the stacked tensor is not).
        W = self.param("W", nn.initializers.xavier_normal(), (self.n_hidden, self.n_features))
        b = self.param("b", nn.initializers.zeros, (self.n_features,))
        h = x @ W.T
        h = nn.relu(h) if self.hidden_relu else h
        if self.untied:  # Xavier-normal too, on W2's own (n, m): the same std as W's
            out = h @ self.param("W2", nn.initializers.xavier_normal(), (self.n_features, self.n_hidden)).T + b
        else:
            out = h @ W + b
        return nn.relu(out) if self.relu else out


def reconstruct(params, x_t: BatchT, relu: bool = True, hidden_relu: bool = False) -> BatchT:
    """ToyModel's output for x_t = x.T, shape (n_features, batch), as (n_features, batch)."""
    W, b = params["W"], params["b"]
    n, m = W.shape[1], W.shape[0]
    if "W2" in params:  # untied (model.kind=abs): W2 h, h = ReLU(W x) with hidden_relu
        h = W @ x_t
        out = params["W2"] @ (jax.nn.relu(h) if hidden_relu else h)
    elif hidden_relu:  # h = ReLU(W x) has no Gram-matrix shortcut
        out = W.T @ jax.nn.relu(W @ x_t)
    else:
        out = (W.T @ W) @ x_t if n <= 2 * m else W.T @ (W @ x_t)
    out = out + b[:, None]
    return jax.nn.relu(out) if relu else out


def importance_weighted_mse(prediction: Batch, target: Batch, importance: PerFeature) -> jax.Array:
    """Mean over batch and features of importance_i * (x_i - x'_i)^2 (for one model, (batch, features) layout)."""
    return jnp.mean(importance * (target - prediction) ** 2)


def importance_weighted_mse_t(prediction_t: BatchT, target_t: BatchT, importance: PerFeature) -> jax.Array:
    """The same loss in the (features, batch) layout."""
    return jnp.mean(importance[:, None] * (target_t - prediction_t) ** 2)
