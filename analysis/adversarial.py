"""The paper's analytic adversarial attack on a toy model x' = ReLU(W^T W x + b), and the vulnerability it measures.

The attack on feature i moves the input along column i of W^T W, the gradient of feature i's pre-activation
(W^T W is symmetric), by a perturbation of L2 norm eps: delta_i = eps (W^T W)_i / ||(W^T W)_i||. The attacked loss
is the importance-weighted squared error of the output of x + delta_i against the clean input x, averaged over the
samples; the attack takes the worst feature. Vulnerability = L' - L (attacked minus clean loss, same samples).

A model without superposition (`orthogonal`: the m first features on orthogonal unit directions, the others
dropped, b = 0) has L' - L = importance_i eps^2 exactly (the attack adds eps to feature i's output and nothing else),
so the paper's relative vulnerability (L' - L) / (L'_0 - L_0) reads how much more the superposed model loses.

Two readings of the paper's words that the text leaves open (docs/experiments/adversarial.md), both optional here:
`per_example=True` takes the worst feature per input ("adversarial examples" are made one input at a time) instead of
one feature for the whole sample; `nonzero_norm=True` takes the average input norm over the inputs with a feature
present (at 1-S = 0.003 and n = 40, 89% of the paper's inputs are zero). `python -m analysis.adversarial DIR` prints
all four readings per density of a finished run, for every seed.
Used by analysis/experiments/adversarial.py; tests: tests/analysis/test_adversarial.py.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

EPS_FRACTION = 0.1  # the attack's norm as a fraction of the average input norm (the paper's 0.1)
SAMPLES = 20_000  # inputs per evaluation: the sampling error of the ratio is well under 1% at these sizes
SEED = 0


def sample_inputs(n: int, density, samples: int = SAMPLES, seed: int = SEED) -> np.ndarray:
    """(samples, n) inputs of the paper's law: each feature present with probability density (a scalar or one per
    feature), then U[0, 1]."""
    rng = np.random.default_rng(seed)
    present = rng.random((samples, n)) < np.broadcast_to(np.asarray(density, np.float64), (n,))
    return present * rng.random((samples, n))


def losses(W: np.ndarray, b: np.ndarray, x: np.ndarray, importance, delta=None) -> np.ndarray:
    """Per sample: sum_i importance_i (x_i - ReLU(W^T W (x + delta) + b)_i)^2."""
    inputs = x if delta is None else x + delta
    out = np.maximum(inputs @ (W.T @ W) + b, 0.0)  # W^T W is symmetric: row or column alike
    return np.sum(np.asarray(importance) * (x - out) ** 2, axis=-1)


def loss(W: np.ndarray, b: np.ndarray, x: np.ndarray, importance, delta=None) -> float:
    """The mean over samples of `losses`."""
    return float(np.mean(losses(W, b, x, importance, delta)))


def attacks(W: np.ndarray) -> np.ndarray:
    """(n, n) unit attack directions, row i along column i of W^T W (a zero row where feature i has no column)."""
    G = W.T @ W
    norms = np.linalg.norm(G, axis=0)
    return np.where(norms[:, None] > 0, G.T / np.where(norms > 0, norms, 1.0)[:, None], 0.0)


def vulnerability(W: np.ndarray, b: np.ndarray, x: np.ndarray, importance, eps: float,
                  per_example: bool = False) -> tuple[float, int]:
    """(L' - L for the worst feature's attack, that feature) on the samples x, attack norm eps; per_example: the worst
    feature of each input (the feature returned: the one most often worst)."""
    clean = losses(W, b, x, importance)
    attacked = np.stack([losses(W, b, x, importance, eps * d) for d in attacks(W)])  # (features, samples)
    if per_example:
        worst = attacked.argmax(axis=0)
        return float(np.mean(attacked.max(axis=0) - clean)), int(np.bincount(worst).argmax())
    means = attacked.mean(axis=1)
    worst = int(np.argmax(means))
    return float(means[worst] - clean.mean()), worst


def attack_norm(x: np.ndarray, fraction: float = EPS_FRACTION, nonzero: bool = False) -> float:
    """eps: `fraction` of the average L2 norm of the inputs (nonzero: of those with a feature present)."""
    norms = np.linalg.norm(x, axis=-1)
    return fraction * float(np.mean(norms[norms > 0] if nonzero else norms))


def orthogonal(n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """(W (m, n), b (n,)) of a model without superposition: features 0..m-1 on the m axes, the others dropped."""
    return np.eye(m, n), np.zeros(n)


def relative_vulnerability(W: np.ndarray, b: np.ndarray, density, importance, samples: int = SAMPLES,
                           seed: int = SEED, per_example: bool = False, nonzero_norm: bool = False) -> dict:
    """The paper's (L' - L) / (L'_0 - L_0): the model's worst-feature vulnerability over that of `orthogonal` on the
    same inputs and attack norm (0.1 x their average norm), the same reading of the attack for both."""
    m, n = W.shape
    x = sample_inputs(n, density, samples, seed)
    eps = attack_norm(x, nonzero=nonzero_norm)
    model, worst = vulnerability(W, b, x, importance, eps, per_example)
    baseline, _ = vulnerability(*orthogonal(n, m), x, importance, eps, per_example)
    return {"vulnerability": model, "baseline": baseline, "relative": model / baseline, "worst_feature": worst,
            "eps": eps}


READINGS = {"paper": {}, "per_example": {"per_example": True}, "nonzero_norm": {"nonzero_norm": True},
            "both": {"per_example": True, "nonzero_norm": True}}


def readings(run, precise: bool = True, best_only: bool = False) -> pd.DataFrame:
    """Every model of a finished run (analysis.run.Run): its relative vulnerability under each of READINGS, features
    per dimension, its final-evaluation loss and whether the precise ranking (analysis/rescore.py) keeps it as its
    density's best (precise=False: not re-scored, the column left out; the re-scoring is the slow part); best_only:
    each density's lowest final-evaluation loss only."""
    from analysis.rescore import precise_ties

    best = {(r["run"], r["model_id"]) for _, r in precise_ties(run).iterrows() if r["paired_gap"] == 0} if precise else None
    rows = []
    models = run.best if best_only else run.models
    for _, row in models.sort_values(["density", "loss"], ascending=[False, True]).iterrows():
        W, b = (a.astype(np.float64) for a in run.weights_of(row))
        features = run.table[(run.table["run"] == row["run"]) & (run.table["model_id"] == row["model_id"])]
        importance = features.sort_values("feature")["importance"].to_numpy()
        out = {"density": row["density"], "seed": int(row["seed"]), "loss": row["loss"],
               **({"precise_best": (row["run"], row["model_id"]) in best} if precise else {}),
               "features_per_dim": float(np.sum(W**2)) / W.shape[0]}
        for name, options in READINGS.items():
            out[name] = relative_vulnerability(W, b, row["density"], importance, **options)["relative"]
        rows.append(out)
    return pd.DataFrame(rows)


if __name__ == "__main__":  # python -m analysis.adversarial DIR [--no-precise] [--best]: the four readings per model
    import sys

    from analysis.run import Run

    with pd.option_context("display.width", 200, "display.max_rows", 500):
        table = readings(Run(sys.argv[1]), "--no-precise" not in sys.argv, "--best" in sys.argv)
        print(table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
