"""Scores of trained SAEs against the true features, as tidy tables.

`scores`: one row per SAE (source x SAE seed x coefficient, for one dictionary size):
    mmcs       mean over the counted true features of max_j cos(F_i, atom_j) (Sharkey et al. 2022's MMCS)
    recovered  share of the counted true features with some atom at cosine > recovered_cos (0.9 by default)
    dead       share of latents that never fire on the evaluation batch; dense: share firing on > 50% of it
    l0, fve, mse   mean active latents per sample, fraction of variance explained, reconstruction MSE per dimension
`features`: one row per SAE x true feature: its best latent and cosine, the runner-up, and how many atoms lie above
recovered_cos (> 1: the feature is split over several latents; a latent that is the best of several features absorbs).
Counted true features: ||F_i|| > sweep.metrics.REPRESENTED_NORM for a toy model, every one for synthetic data.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from sweep.sae.source import Sources

MUTATE_ONLY = ["cosines", "mmcs", "scores", "features"]
DENSE_RATE = 0.5


def cosines(F, atoms):
    """(..., G, L) cosine between true feature i (a column of F (..., d, G)) and atom j (a column of (..., d, L))."""
    f = F / np.maximum(np.linalg.norm(F, axis=-2, keepdims=True), 1e-12)
    a = atoms / np.maximum(np.linalg.norm(atoms, axis=-2, keepdims=True), 1e-12)
    return np.swapaxes(f, -1, -2) @ a


def mmcs(cos, counted) -> np.ndarray:
    """(...,) mean over the counted features of the best atom's cosine (NaN where no feature is counted)."""
    best = cos.max(axis=-1)
    n = counted.sum(axis=-1)
    return np.where(n > 0, (best * counted).sum(axis=-1) / np.maximum(n, 1), np.nan)


def _grid(sources: Sources, result: dict, arch: str, n_latents: int) -> pd.DataFrame:
    """One row per SAE in (source, seed, coeff) order, with the source's identity columns."""
    seeds, coeffs = result["seeds"], result["coeffs"]
    base = sources.coords.loc[np.repeat(np.arange(len(sources)), len(seeds) * len(coeffs))].reset_index(drop=True)
    base.insert(0, "source", np.repeat(np.arange(len(sources)), len(seeds) * len(coeffs)))
    base["sae_seed"] = np.tile(np.repeat(seeds, len(coeffs)), len(sources))
    base["arch"], base["dict_size"] = arch, n_latents
    base["coeff"] = np.tile(np.asarray(coeffs, np.float64), len(sources) * len(seeds))
    return base


def scores(sources: Sources, result: dict, arch: str, n_latents: int, recovered_cos: float = 0.9) -> pd.DataFrame:
    table = _grid(sources, result, arch, n_latents)
    R, K = len(result["seeds"]), len(result["coeffs"])
    W_dec = result["params"]["W_dec"].reshape(len(sources), R * K, sources.d, n_latents)
    cos = cosines(sources.features[:, None], W_dec)  # (S, R K, G, L)
    counted = sources.represented[:, None, :]
    fire = result["fire_rate"].reshape(-1, n_latents)
    table["n_true"] = np.repeat(sources.represented.sum(axis=1), R * K)
    table["mmcs"] = mmcs(cos, counted).reshape(-1)
    hit = (cos.max(axis=-1) > recovered_cos) & counted
    table["recovered"] = (hit.sum(axis=-1) / np.maximum(counted.sum(axis=-1), 1)).reshape(-1)
    table["dead"] = (fire == 0).mean(axis=1)
    table["dense"] = (fire > DENSE_RATE).mean(axis=1)
    for name in ("l0", "fve", "mse", "loss"):
        table[name] = np.asarray(result[name], np.float64).reshape(-1)
    table["recovered_cos"] = recovered_cos
    return table


def features(sources: Sources, result: dict, arch: str, n_latents: int, recovered_cos: float = 0.9) -> pd.DataFrame:
    """One row per SAE x true feature: best latent, its cosine, runner-up latent and cosine, atoms above the bar."""
    table = _grid(sources, result, arch, n_latents)
    R, K = len(result["seeds"]), len(result["coeffs"])
    G = sources.features.shape[2]
    W_dec = result["params"]["W_dec"].reshape(len(sources), R * K, sources.d, n_latents)
    cos = cosines(sources.features[:, None], W_dec).reshape(-1, G, n_latents)
    order = np.argsort(-cos, axis=-1)
    out = table.loc[table.index.repeat(G)].reset_index(drop=True)
    out["feature"] = np.tile(np.arange(G), len(table))
    out["counted"] = np.repeat(sources.represented, R * K, axis=0).reshape(-1)
    out["norm"] = np.repeat(np.linalg.norm(sources.features, axis=1), R * K, axis=0).reshape(-1)
    out["best_latent"] = order[..., 0].reshape(-1)
    out["best_cos"] = np.take_along_axis(cos, order[..., :1], -1).reshape(-1)
    second = order[..., 1] if n_latents > 1 else np.full(order.shape[:-1], -1)
    out["second_latent"] = second.reshape(-1)
    out["second_cos"] = (np.take_along_axis(cos, order[..., 1:2], -1) if n_latents > 1
                         else np.full((*cos.shape[:-1], 1), np.nan)).reshape(-1)
    out["latents_above"] = (cos > recovered_cos).sum(axis=-1).reshape(-1)
    return out
