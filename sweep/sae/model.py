"""ONE sparse autoencoder on activations h (d, batch), in the trainer's (features, batch) layout.

    z  = act(W_enc (h - b_dec) + b_enc)    act: ReLU (arch=l1) or ReLU then keep the k largest (arch=topk)
    h' = W_dec z + b_dec                   W_dec (d, L): L latents, each column kept at unit norm
    loss = mean_batch ||h - h'||^2 / d + l1 * mean_batch sum_j z_j    (the L1 term only for arch=l1)

The decoder columns are renormalised to unit norm after every Adam step (Sharkey et al. 2022 did the same), so the
L1 penalty cannot be evaded by shrinking z and growing W_dec. `coeff` is the L1 coefficient (arch=l1) or k (topk),
one traced value per SAE: a grid of them vmaps. The dictionary size L is a shape: one program per size.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import optax

MUTATE_ONLY = ["init", "encode", "decode", "loss", "unit_columns", "step"]
ARCHS = ("l1", "topk")
SAEParams = dict  # {"W_enc": (L, d), "b_enc": (L,), "W_dec": (d, L), "b_dec": (d,)}


def unit_columns(W_dec):
    """Each decoder column (atom) scaled to unit norm."""
    return W_dec / jnp.maximum(jnp.linalg.norm(W_dec, axis=0, keepdims=True), 1e-12)


def init(key, d: int, n_latents: int) -> SAEParams:
    """Unit-norm random atoms (normal directions); the encoder starts as the decoder's transpose; zero biases."""
    W_dec = unit_columns(jax.random.normal(key, (d, n_latents)))
    return {"W_enc": W_dec.T, "b_enc": jnp.zeros(n_latents), "W_dec": W_dec, "b_dec": jnp.zeros(d)}


def encode(params: SAEParams, h_t, arch: str, coeff):
    """Latents z (L, batch) of activations h_t (d, batch). topk: coeff = k, the k largest ReLU pre-activations of each
    sample are kept (a tie at the k-th value keeps all tied entries, a measure-zero event)."""
    z = jax.nn.relu(params["W_enc"] @ (h_t - params["b_dec"][:, None]) + params["b_enc"][:, None])
    if arch == "topk":
        kth = jnp.take(jnp.sort(z, axis=0)[::-1], jnp.asarray(coeff, jnp.int32) - 1, axis=0)  # (batch,)
        z = jnp.where(z >= kth[None, :], z, 0.0)
    return z


def decode(params: SAEParams, z):
    return params["W_dec"] @ z + params["b_dec"][:, None]


def loss(params: SAEParams, h_t, arch: str, coeff):
    """Reconstruction MSE (per activation dimension) plus, for arch=l1, coeff times the mean L1 norm of z."""
    z = encode(params, h_t, arch, coeff)
    mse = jnp.mean((decode(params, z) - h_t) ** 2)
    return mse + (coeff * jnp.mean(jnp.sum(z, axis=0)) if arch == "l1" else 0.0)


def optimizer(lr: float, b1: float, b2: float, eps: float) -> optax.GradientTransformation:
    return optax.adam(lr, b1=b1, b2=b2, eps=eps)


def step(params: SAEParams, opt_state, h_t, arch: str, coeff, opt: optax.GradientTransformation):
    """One Adam step, then the decoder columns back to unit norm: (params, opt_state, loss)."""
    value, grads = jax.value_and_grad(loss)(params, h_t, arch, coeff)
    updates, opt_state = opt.update(grads, opt_state, params)
    params = optax.apply_updates(params, updates)
    return {**params, "W_dec": unit_columns(params["W_dec"])}, opt_state, value
