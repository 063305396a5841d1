"""The toy model x' = ReLU(W^T W x + b) (or without the ReLU), and its loss. One model, no batching over models."""
from __future__ import annotations

import flax.linen as nn
import jax.numpy as jnp


class ToyModel(nn.Module):
    """Tied-weight autoencoder; W is (n_hidden, n_features), column W_i embeds feature i."""

    n_features: int
    n_hidden: int
    relu: bool = True

    @nn.compact
    def __call__(self, x):  # x: (batch, n_features)
        # Xavier-normal on this model's own (m, n) matrix: std sqrt(2 / (m + n)), independent of how
        # many models are trained beside it (the notebook's init on the stacked tensor is not).
        W = self.param("W", nn.initializers.xavier_normal(), (self.n_hidden, self.n_features))
        b = self.param("b", nn.initializers.zeros, (self.n_features,))
        out = (x @ W.T) @ W + b
        return nn.relu(out) if self.relu else out


def importance_weighted_mse(prediction, target, importance):
    """Mean over batch and features of importance_i * (x_i - x'_i)^2 (for one model)."""
    return jnp.mean(importance * (target - prediction) ** 2)
