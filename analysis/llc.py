"""The local learning coefficient (LLC) from localized SGLD chains, many chains x many models in one program.

The estimator of Lau et al. (2023, arXiv 2308.12108): at a minimum w* of the empirical loss L_n,
run SGLD on the tempered, localized posterior exp(-n beta L_n(w) - gamma/2 |w - w*|^2),

    w' = w - eps/2 (n beta grad L_n(w) + gamma (w - w*)) + N(0, eps I),

with beta = 1 / log n, and estimate lambda_hat = n beta (E_chain[L_n(w)] - L_n(w*)). Minibatches
(`batch_size`) replace grad L_n(w) and L_n(w) - L_n(w*) by control-variate estimates on the batch B
(SGLD-CV, Baker et al. 2019): grad L_B(w) - grad L_B(w*) + grad L_n(w*) and L_B(w) - L_B(w*). Both
are unbiased and their noise vanishes as w -> w* (plain minibatch losses, scaled by n beta ~ 10^3,
would swamp lambda: a 500-sample batch gave chain-to-chain spreads of 0.6 on lambda = 2). Everything per
model (w*, data, eps, gamma) has a leading model axis; chains are a second axis; one jitted program
scans over steps with both axes vmapped, so each chain runs exactly as it would alone.

Where L_n is locally a positive definite quadratic in rank-many directions and exactly flat in the
others, lambda = rank / 2, and with the localization the Gaussian chain's mean is
sum_i (1/2) n beta h_i / (n beta h_i + gamma) over the Hessian's eigenvalues h_i (`quadratic_llc`).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from analysis.kgon import empirical_loss


@dataclass(frozen=True)
class SGLDConfig:
    steps: int = 4000
    burn_in: int = 1000
    chains: int = 8
    batch_size: int = 0  # 0: full batch


def tms_loss(c: int):
    """loss(w, x): the paper's E||x - ReLU(W^T W x + b)||^2 on a batch x (B, c), w = (W.ravel(), b) (3c,)."""
    def loss(w, x):
        return empirical_loss(w[:2 * c].reshape(2, c), w[2 * c:], x)
    return loss


def linear_regression_loss(w, xy):
    """loss(w, xy): mean over the batch of (y - w . x)^2 / 2, xy (B, d + 1) = [x, y]; lambda = d / 2."""
    return jnp.mean((xy[:, -1] - xy[:, :-1] @ w) ** 2) / 2


@functools.partial(jax.jit, static_argnames=("loss_fn", "cfg"))
def sgld_losses(loss_fn, w_star, data, eps, gamma, key, cfg: SGLDConfig):
    """L_n(w_t) - L_n(w*) (or its control-variate estimate) along every chain: (G, chains, steps).

    w_star (G, d), data (G, n, ...), eps and gamma (G,), key: one PRNG key for the whole run
    (model g, chain j uses fold_in(fold_in(key, g), j), so a model's chains do not depend on G).
    """
    n = data.shape[1]
    nbeta = n / jnp.log(n)

    value_and_grad = jax.value_and_grad(loss_fn)

    def chain(w0, x, eps, gamma, key):
        loss_star, grad_star = value_and_grad(w0, x)

        def step(w, key_t):
            k_batch, k_noise = jax.random.split(key_t)
            batch = x[jax.random.randint(k_batch, (cfg.batch_size,), 0, n)] if cfg.batch_size else x
            loss, grad = value_and_grad(w, batch)
            if cfg.batch_size:  # control variates: the same batch at w*
                at_star, grad_at_star = value_and_grad(w0, batch)
            else:
                at_star, grad_at_star = loss_star, grad_star
            drift = nbeta * (grad - grad_at_star + grad_star) + gamma * (w - w0)
            noise = jax.random.normal(k_noise, w.shape, w.dtype)
            return w - eps / 2 * drift + jnp.sqrt(eps) * noise, loss - at_star

        _, losses = jax.lax.scan(step, w0, jax.random.split(key, cfg.steps))
        return losses

    def model(g, w0, x, eps, gamma):
        keys = jax.vmap(lambda j: jax.random.fold_in(jax.random.fold_in(key, g), j))(jnp.arange(cfg.chains))
        return jax.vmap(chain, in_axes=(None, None, None, None, 0))(w0, x, eps, gamma, keys)

    return jax.vmap(model)(jnp.arange(w_star.shape[0]), w_star, data, eps, gamma)


def llc_estimates(loss_fn, w_star, data, eps, gamma, key, cfg: SGLDConfig) -> np.ndarray:
    """lambda_hat per model and chain (G, chains), from the steps after burn-in."""
    excess = sgld_losses(loss_fn, w_star, data, jnp.asarray(eps), jnp.asarray(gamma), key, cfg)
    return llc_from_excess(excess, data.shape[1], cfg.burn_in)


def llc_from_excess(excess, n: int, burn_in: int, steps: int | None = None) -> np.ndarray:
    """lambda_hat (G, chains) = n beta mean(L_n(w_t) - L_n(w*)) over steps burn_in..steps of each chain."""
    return n / np.log(n) * np.asarray(excess)[:, :, burn_in:steps].mean(axis=-1)


def refine_minimum(loss_fn, w0, data, iterations: int = 30, damping: float = 1e-10):
    """The empirical loss's minimum near w0, by damped Newton steps (vmapped over models): (G, d).

    The damping keeps the step finite along exactly flat directions (the k-gon's rotation), where
    the gradient is zero anyway.
    """
    def newton(w, x):
        def body(w, _):
            g = jax.grad(loss_fn)(w, x)
            H = jax.hessian(loss_fn)(w, x)
            return w - jnp.linalg.solve(H + damping * jnp.eye(w.size), g), None
        return jax.lax.scan(body, w, None, length=iterations)[0]

    return jax.jit(jax.vmap(newton))(w0, data)


def quadratic_llc(hessian_eigenvalues, n: int, gamma: float) -> float:
    """The localized Gaussian chain's lambda_hat: sum over h > 0 of (1/2) n beta h / (n beta h + gamma)."""
    h = np.clip(np.asarray(hessian_eigenvalues), 0, None)
    nbeta = n / np.log(n)
    return float(np.sum(0.5 * nbeta * h / (nbeta * h + gamma)))
