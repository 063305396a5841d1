"""Calibrating the SGLD estimator of the LLC (analysis/llc.py) at regular k-gons with c = k.

Derived lambda (docs/experiments/kgons.md): for k >= 5 the exact loss's Hessian at the k-gon has
rank 3k - 1 (its null space is the rotation orbit, where the loss is exactly constant), so the
point is minimally singular and lambda = (3k - 1) / 2. The 4-gon fits every sample exactly and
sits on ReLU kinks: 8 directions are quadratic, 3 are one-sided quadratics (a gap between
neighbours shrinking), the rotation is flat, so lambda = 11 / 2 (see the doc for the argument).

Each (seed, eps, gamma) is one model of a vmapped program: its own training set of n samples,
its own empirical minimum w_n (damped Newton from the exact optimum) and its own chains. With
`exact`, the chains run on the exact population loss (analysis/kgon.py) in place of L_n, with the
same n beta = n / log n: no data noise, only the sampler and the finite temperature.
"""
from __future__ import annotations

import argparse
import itertools
import time

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from analysis.kgon import hessian_eigenvalues, kgon_optimum, markdown, optimum_params, population_loss, sample_one_hot
from analysis.llc import SGLDConfig, llc_from_excess, quadratic_llc, refine_minimum, sgld_losses, tms_loss


def derived_llc(k: int) -> float:
    """lambda at the regular k-gon with c = k features (see the module docstring)."""
    return 5.5 if k == 4 else (3 * k - 1) / 2


def exact_tms_loss(c: int):
    """loss(w, x): the exact population loss at w = (W.ravel(), b); x is ignored (shape (B, 0))."""
    def loss(w, x):
        return population_loss(w[:2 * c].reshape(2, c), w[2 * c:])
    return loss


def kgon_problem(k: int, n: int, seeds, exact: bool = False):
    """(loss, w_n (S, 3k), data (S, n, k)) in float64: each seed's training set and its empirical minimum.

    With `exact`: the exact loss, its minimum and empty data (S, n, 0) that only carries n.
    """
    W, b = optimum_params(kgon_optimum(k, k))
    w_pop = jnp.broadcast_to(jnp.concatenate([W.reshape(-1), b]), (len(seeds), 3 * k))
    if exact:
        return exact_tms_loss(k), w_pop, jnp.zeros((len(seeds), n, 0))
    data = jnp.asarray(np.stack([sample_one_hot(np.random.default_rng(s), n, k) for s in seeds]))
    return tms_loss(k), refine_minimum(tms_loss(k), w_pop, data), data


def calibrate(k: int, n: int, eps, gamma, cfg: SGLDConfig, seeds=(0,), key_seed: int = 0,
              lengths=(), exact: bool = False) -> pd.DataFrame:
    """lambda_hat per (seed, eps, gamma, chain) at the k-gon; one row each, for the full chain and `lengths`."""
    with jax.enable_x64(True):
        loss, w_n, data = kgon_problem(k, n, seeds, exact)
        grid = list(itertools.product(range(len(seeds)), eps, gamma))
        index = jnp.asarray([g[0] for g in grid])
        start = time.perf_counter()
        excess = sgld_losses(loss, w_n[index], data[index], jnp.asarray([g[1] for g in grid]),
                             jnp.asarray([g[2] for g in grid]), jax.random.PRNGKey(key_seed), cfg)
        excess = jax.block_until_ready(excess)
        seconds = time.perf_counter() - start
    hessian = hessian_eigenvalues(kgon_optimum(k, k))
    rows = []
    for steps in (cfg.steps, *lengths):
        burn_in = cfg.burn_in * steps // cfg.steps
        lam = llc_from_excess(excess, n, burn_in, steps)
        for (s, e, g), per_chain in zip(grid, lam):
            for chain, value in enumerate(per_chain):
                rows.append(dict(k=k, loss="exact" if exact else "L_n", n=n, seed=seeds[s], eps=e, gamma=g, steps=steps,
                                 burn_in=burn_in,
                                 chain=chain, lambda_hat=float(value), derived=derived_llc(k),
                                 localized_gaussian=quadratic_llc(hessian, n, g) if k > 4 else np.nan,
                                 wall_s=seconds))
    return pd.DataFrame(rows)


def summary(table: pd.DataFrame) -> pd.DataFrame:
    keys = ["k", "loss", "n", "eps", "gamma", "steps", "burn_in"]
    out = table.groupby(keys).agg(mean=("lambda_hat", "mean"), chain_sd=("lambda_hat", "std"),
                                  chains=("lambda_hat", "size"), derived=("derived", "first"),
                                  localized_gaussian=("localized_gaussian", "first"), wall_s=("wall_s", "first"))
    out["rel_error"] = out["mean"] / out["derived"] - 1
    return out.reset_index()


def main(argv=None):
    parser = argparse.ArgumentParser(description="LLC estimator calibration at regular k-gons (c = k)")
    parser.add_argument("--k", type=int, nargs="+", default=[4, 5, 6])
    parser.add_argument("--n", type=int, default=20000)
    parser.add_argument("--eps", type=float, nargs="+", default=[5e-5])
    parser.add_argument("--gamma", type=float, nargs="+", default=[1.0])
    parser.add_argument("--steps", type=int, default=10000)
    parser.add_argument("--burn-in", type=int, default=2000)
    parser.add_argument("--chains", type=int, default=8)
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=1)
    parser.add_argument("--lengths", type=int, nargs="*", default=[])
    parser.add_argument("--exact", action="store_true", help="chains on the exact population loss")
    args = parser.parse_args(argv)
    for name, ok, allowed in [("--k", all(3 <= k <= 12 for k in args.k), "3..12"), ("--n", args.n >= 10, ">= 10"),
                              ("--steps", 1 <= args.burn_in < args.steps, "> --burn-in >= 1"),
                              ("--eps", all(e > 0 for e in args.eps), "> 0"),
                              ("--gamma", all(g >= 0 for g in args.gamma), ">= 0")]:
        if not ok:
            parser.exit(2, f"{name} must be {allowed}\n")
    cfg = SGLDConfig(steps=args.steps, burn_in=args.burn_in, chains=args.chains, batch_size=args.batch_size)
    tables = [calibrate(k, args.n, args.eps, args.gamma, cfg, seeds=tuple(range(args.seeds)), lengths=args.lengths,
                        exact=args.exact)
              for k in args.k]
    print(markdown(summary(pd.concat(tables)), 4))


if __name__ == "__main__":
    main()
