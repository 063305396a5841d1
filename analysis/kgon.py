"""Regular k-gons of Chen et al. 2023 (arXiv 2310.06301): exact losses, optima and Hessians.

The data law: exactly one of c features is active per sample, chosen uniformly, with value
t ~ U[0, 1]. The model is x' = ReLU(W^T W x + b) with W (2, c). The loss is the paper's
E_x ||x - x'||^2 (summed over features, averaged over samples); it is c times the engine's
mean over features. With input t e_i, output j is ReLU(t G_ji + b_j) (G = W^T W), so

    L(W, b) = (1/c) sum_i sum_j  integral_0^1 (delta_ij t - ReLU(G_ji t + b_j))^2 dt,

and every integral is a polynomial over the interval where G_ji t + b_j > 0 (`segment_loss`).

A k-gon puts features 0..k-1 at radius r and angles 2 pi i / k, all with bias b; the other
c - k features are dead (W_j = 0). A dead feature's output is ReLU(b_j) on every sample; the
"+" variants give `plus` of them a positive bias (optimal 1/(2c) when b <= 0), the others a
bias <= 0 (output 0; the loss is flat in it). By the k-gon's symmetry (a cyclic shift of the
features composed with a rotation by 2 pi / k fixes it) the gradient at the optimum over (r, b)
vanishes in every direction, so each optimum is a critical point of the full loss.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import scipy.optimize


def _antiderivative(t, p2, p1, p0):
    return p2 * t**3 / 3 + p1 * t**2 / 2 + p0 * t


def segment_loss(delta, a, b):
    """integral_0^1 (delta t - ReLU(a t + b))^2 dt, exact, elementwise.

    = delta^2 / 3 + integral over {a t + b > 0} of (a t + b)^2 - 2 delta t (a t + b), a polynomial.
    """
    safe_a = jnp.where(a == 0, 1.0, a)
    cross = jnp.clip(-b / safe_a, 0.0, 1.0)
    lo = jnp.where(a > 0, cross, 0.0)
    hi = jnp.where(a < 0, cross, 1.0)
    empty = (a == 0) & (b <= 0)
    hi = jnp.where(empty, lo, hi)
    p2, p1, p0 = a * a - 2 * delta * a, 2 * a * b - 2 * delta * b, b * b
    return delta**2 / 3 + _antiderivative(hi, p2, p1, p0) - _antiderivative(lo, p2, p1, p0)


def population_loss(W, b):
    """E_x ||x - ReLU(W^T W x + b)||^2 under the one-hot U[0, 1] law (W (2, c), b (c,))."""
    c = W.shape[1]
    gram = W.T @ W  # gram[i, j] = W_i . W_j
    return jnp.sum(segment_loss(jnp.eye(c), gram, b[None, :])) / c


def kgon_params(k: int, c: int, radius, bias, plus: int = 0, plus_bias=None, dead_bias: float = -0.1):
    """(W (2, c), b (c,)) of the k-gon: features 0..k-1 active, the next `plus` dead with `plus_bias`."""
    angles = 2 * jnp.pi * jnp.arange(k) / k
    W = jnp.zeros((2, c)).at[:, :k].set(radius * jnp.stack([jnp.cos(angles), jnp.sin(angles)]))
    plus_bias = 1 / (2 * c) if plus_bias is None else plus_bias
    b = jnp.full((c,), dead_bias).at[:k].set(bias).at[k:k + plus].set(plus_bias)
    return W, b


@dataclass(frozen=True)
class KgonOptimum:
    k: int
    c: int
    plus: int
    radius: float
    bias: float
    plus_bias: float
    loss: float


def kgon_optimum(k: int, c: int, plus: int = 0) -> KgonOptimum:
    """Minimise the exact loss over the k-gon's radius, its bias and the "+" features' bias."""
    if not 1 <= k <= c or not 0 <= plus <= c - k:
        raise ValueError(f"need 1 <= k <= c and 0 <= plus <= c - k, got k={k}, c={c}, plus={plus}")
    with jax.enable_x64(True):
        def f(theta):
            return population_loss(*kgon_params(k, c, theta[0], theta[1], plus, theta[2]))

        value_and_grad = jax.jit(jax.value_and_grad(f))
        best = None
        for start in ([1.0, 0.0, 0.1], [1.2, -0.2, 0.1], [1.5, -0.5, 0.1]):
            res = scipy.optimize.minimize(lambda th: tuple(np.asarray(v) for v in value_and_grad(jnp.asarray(th))),
                                          np.asarray(start), jac=True, method="L-BFGS-B", options={"gtol": 1e-12, "ftol": 1e-15})
            if best is None or res.fun < best.fun:
                best = res
        r, bias, pb = best.x
        return KgonOptimum(k, c, plus, abs(float(r)), float(bias), float(pb) if plus else float("nan"), float(best.fun))


def optimum_params(opt: KgonOptimum, dead_bias: float = -0.1):
    return kgon_params(opt.k, opt.c, opt.radius, opt.bias, opt.plus,
                       0.0 if np.isnan(opt.plus_bias) else opt.plus_bias, dead_bias)


def sample_one_hot(rng: np.random.Generator, n: int, c: int) -> np.ndarray:
    """n samples (n, c) of the law: one uniform feature active, value U[0, 1)."""
    x = np.zeros((n, c))
    x[np.arange(n), rng.integers(0, c, n)] = rng.random(n)
    return x


def empirical_loss(W, b, x):
    """Mean over samples of ||x - ReLU(W^T W x + b)||^2; x (n, c)."""
    out = jax.nn.relu(x @ (W.T @ W) + b)  # W^T W is symmetric
    return jnp.mean(jnp.sum((x - out) ** 2, axis=-1))


def monte_carlo_loss(W, b, n: int = 1_000_000, seed: int = 0, chunks: int = 10):
    """(mean, standard error) of the loss on n fresh samples."""
    rng = np.random.default_rng(seed)
    W, b = np.asarray(W, np.float64), np.asarray(b, np.float64)
    per = []
    for _ in range(chunks):
        x = sample_one_hot(rng, n // chunks, W.shape[1])
        per.append(np.sum((x - np.maximum(x @ (W.T @ W) + b, 0.0)) ** 2, axis=-1))
    per = np.concatenate(per)
    return float(per.mean()), float(per.std() / np.sqrt(per.size))


def hessian(opt: KgonOptimum, dead_bias: float = -0.1) -> np.ndarray:
    """The exact loss's Hessian in all 3c parameters (W.ravel(), b) at the optimum: (3c, 3c)."""
    with jax.enable_x64(True):
        W, b = optimum_params(opt, dead_bias)
        c = opt.c

        def f(theta):
            return population_loss(theta[:2 * c].reshape(2, c), theta[2 * c:])

        return np.asarray(jax.jit(jax.hessian(f))(jnp.concatenate([W.reshape(-1), b])))


def hessian_eigenvalues(opt: KgonOptimum, dead_bias: float = -0.1) -> np.ndarray:
    """Eigenvalues (ascending) of `hessian`."""
    return np.linalg.eigvalsh(hessian(opt, dead_bias))


def kgon_table(ks=range(4, 9), cs=range(4, 9), mc_samples: int = 1_000_000, seed: int = 0) -> pd.DataFrame:
    """One row per (k, c, plus) with k <= c: plus = 0 and, where c > k, plus = c - k (all dead features "+").

    Each row's Monte Carlo check draws its own fresh samples (seed, c, k and plus give the stream).
    `hessian_rank` counts eigenvalues > 1e-8 of the full Hessian (None for the 4-gon, see above);
    `llc` = rank / 2 holds where the null space is the rotation plus exactly flat dead features.
    """
    rows = []
    for c in cs:
        for k in ks:
            if k > c:
                continue
            for plus in sorted({0, c - k}):
                opt = kgon_optimum(k, c, plus)
                mc, se = monte_carlo_loss(*optimum_params(opt), n=mc_samples, seed=seed + 100 * c + 10 * k + plus)
                eigenvalues = hessian_eigenvalues(opt)
                # The 4-gon sits on ReLU kinks (b = 0, neighbours at 90 degrees): its Hessian is one-sided.
                rank = int(np.sum(eigenvalues > 1e-8)) if k > 4 and eigenvalues[0] > -1e-8 else None
                rows.append(dict(variant=f"{k}" + "+" * plus, c=c, radius=opt.radius, bias=opt.bias,
                                 plus_bias=opt.plus_bias, loss=max(opt.loss, 0.0), mc_loss=mc, mc_se=se,
                                 hessian_rank=rank, llc=rank / 2 if rank else None))
    return pd.DataFrame(rows)


def markdown(table: pd.DataFrame, digits: int = 5) -> str:
    """A GitHub markdown table (floats with `digits` significant digits)."""
    def cell(v):
        if v is None or (isinstance(v, float) and np.isnan(v)):
            return "-"
        return f"{v:.{digits}g}" if isinstance(v, float) else str(v)
    lines = ["| " + " | ".join(table.columns) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description="Exact k-gon losses (Chen et al. 2023) with a Monte Carlo check")
    parser.add_argument("--mc-samples", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.mc_samples < 10:
        parser.exit(2, "--mc-samples must be >= 10\n")
    table = kgon_table(mc_samples=args.mc_samples, seed=args.seed)
    table["diff"] = table.mc_loss - table.loss
    table["z"] = table["diff"] / table.mc_se.where(table.mc_se > 1e-12)  # nan where the fit is exact
    print(markdown(table))


if __name__ == "__main__":
    main()
