"""The neurons of an untied model y' = ReLU(W2 ReLU(W1 x) + b) (model.kind=abs) trained on |x| (computation in
superposition; analysis/experiments/computation*.py).

Per neuron, after the paper's rescaling (each hidden unit j divided by its largest |W1_ji|, W2's column j multiplied by
it; sweep/metrics.py: rescaled): feature i is *in* neuron j when |W1_ji| > IN_NEURON (0.5) there, either sign (ReLU(x_i)
or ReLU(-x_i) both carry the feature), and the neuron is alive (its largest rescaled |W2_ij| above DEAD_GAIN, 0.1; a
neuron computing ReLU(+-x_i) for |x_i| has 1). A neuron is monosemantic with one feature in it, polysemantic with two
or more. A feature is *dedicated* when it is in at least one neuron and every neuron it is in is monosemantic; it has
a *pair* when it is in exactly two neurons, both monosemantic, one with W1_ji > 0 and one with W1_ji < 0.
"""
from __future__ import annotations

import numpy as np

from sweep.metrics import IN_NEURON, abs_neuron_features, alive_neurons, rescaled


def best_per_density(run):
    """The lowest-loss model of each density over every seed and every other setting of the run (the computation preset
    fits two peak lrs: the lr is a setting of the fit, like the seed), densest first. `run`: analysis.run.Run."""
    by_loss = run.best.sort_values("loss", kind="stable").drop_duplicates("density")
    return by_loss.sort_values("density", ascending=False)


def neuron_summary(W1, W2, threshold: float = IN_NEURON) -> dict:
    """Per-neuron and per-feature counts of one model (W1 (m, n), W2 (n, m)), a feature in a neuron when its rescaled
    |W1_ji| > threshold; see the module docstring."""
    inside = abs_neuron_features(W1, W2, threshold)  # (m, n)
    alive = alive_neurons(W1, W2)
    W1r = rescaled(W1, W2)[0]
    per_neuron, per_feature = inside.sum(axis=1), inside.sum(axis=0)
    alone = inside & (per_neuron == 1)[:, None]  # feature i is the only feature of neuron j
    dedicated = (per_feature > 0) & (alone.sum(axis=0) == per_feature)
    signs = np.where(inside, np.sign(W1r), 0.0)
    pair = dedicated & (per_feature == 2) & ((signs > 0).sum(axis=0) == 1) & ((signs < 0).sum(axis=0) == 1)
    prefix = int(np.argmin(dedicated)) if not dedicated.all() else len(dedicated)
    second = np.sort(np.abs(W1r), axis=1)[:, -2] if W1r.shape[1] > 1 else np.zeros(len(W1r))  # next-largest weight
    return {"alive": int(alive.sum()), "dead": int((~alive).sum()), "per_neuron": per_neuron, "per_feature": per_feature,
            "represented": int((per_feature > 0).sum()), "monosemantic": int((per_neuron == 1).sum()),
            "polysemantic": int((per_neuron >= 2).sum()), "dedicated": dedicated, "pairs": int(pair.sum()),
            "pair": pair, "prefix": prefix, "crosstalk": float(second[alive].max()) if alive.any() else float("nan")}


def constant_loss(density: float, importance) -> float:
    """The loss of the best constant output (y = E|x|): mean_i I_i Var|x_i|, |x_i| = 0 w.p. 1-d else U[0, 1]."""
    return float(np.mean(np.asarray(importance, np.float64) * (density / 3 - density**2 / 4)))


def pair_code_loss(density: float, importance, m: int, paired=None) -> float:
    """The loss of the best pair code: the m/2 most important features (or the features `paired`, indices) each get a
    ReLU(x_i), ReLU(-x_i) neuron pair (W1 = +-e_i, W2 = e_i, b_i = 0: y_i = |x_i| exactly), every other feature the best
    constant output b_i = E|x_i|, which costs its I_i Var|x_i|. A pair is worth more than two single neurons (one
    neuron, ReLU(x_i) alone, cuts Var|x_i| = 1/12 only to 1/15 when dense), so giving the pairs to the most important
    features is the best such code. Derived: mean_i over the features without a pair of I_i (d/3 - d^2/4)."""
    importance = np.asarray(importance, np.float64)
    paired = np.argsort(-importance, kind="stable")[: m // 2] if paired is None else np.asarray(paired, int)
    unpaired = np.ones(len(importance), bool)
    unpaired[paired] = False
    return float(np.sum(importance[unpaired]) * (density / 3 - density**2 / 4) / len(importance))


def computed_features(W1, W2, b, density: float, samples: int = 4_000_000, seed: int = 0,
                      chunk: int = 500_000) -> np.ndarray:
    """Per feature i, the share of Var|x_i| the model computes: R2_i = 1 - E (y'_i - |x_i|)^2 / Var|x_i|, by Monte Carlo
    (`samples` draws of the signed U[-1, 1] law, fixed seed; against the best constant E|x_i| = d/2 on the same draws,
    so a feature the model leaves constant reads ~0 with little noise). No threshold: the sum counts the features
    computed, each by how fully. A code without superposition (every neuron holds one feature) has sum_i R2_i <= m/2:
    a feature's neurons of one sign see only ReLU(+-x_i), and the best function of it, E[|x_i| | ReLU(x_i)], leaves
    P(x_i <= 0) Var(|x_i| | x_i <= 0) = d/6 - d^2/(16 - 8d) >= Var|x_i| / 2 for d <= 1 (R2_i <= 1/2 from one neuron or
    several of one sign), R2_i <= 1 takes two (both signs), and a feature in no neuron gets nothing (R2_i <= 0)."""
    W1, W2, b = (np.asarray(a, np.float64) for a in (W1, W2, b))
    rng, n = np.random.default_rng(seed), W1.shape[1]
    gain, empty = np.zeros(n), np.maximum(b, 0.0)  # a draw with no feature present: y' = ReLU(b), target 0
    for start in range(0, samples, chunk):
        size = min(chunk, samples - start)
        flat = rng.choice(size * n, rng.binomial(size * n, density), replace=False)  # the present (draw, feature)s
        rows, inverse = np.unique(flat // n, return_inverse=True)
        x = np.zeros((len(rows), n))
        x[inverse, flat % n] = rng.uniform(-1.0, 1.0, len(flat))
        y = np.maximum(np.maximum(x @ W1.T, 0.0) @ W2.T + b, 0.0)
        target = np.abs(x)
        gain += ((density / 2 - target) ** 2 - (y - target) ** 2).sum(axis=0)
        gain += (size - len(rows)) * ((density / 2) ** 2 - empty**2)
    return gain / samples / (density / 3 - density**2 / 4)


def describe(s: dict) -> str:
    return (f"{s['alive']} alive neurons ({s['monosemantic']} monosemantic, {s['polysemantic']} polysemantic), "
            f"{s['represented']} features in neurons, {s['pairs']} with a +/- pair, {int(s['dedicated'].sum())} dedicated")
