"""The paper's analytic adversarial attack on a toy model x' = ReLU(W^T W x + b), and the vulnerability it measures.

The attack on feature i moves the input along column i of W^T W, the gradient of feature i's pre-activation
(W^T W is symmetric), by a perturbation of L2 norm eps: delta_i = eps (W^T W)_i / ||(W^T W)_i||. The attacked loss
is the importance-weighted squared error of the output of x + delta_i against the clean input x, averaged over the
samples; the attack takes the worst feature. Vulnerability = L' - L (attacked minus clean loss, same samples).

A model without superposition (`orthogonal`: the m first features on orthogonal unit directions, the others
dropped, b = 0) has L' - L = importance_i eps^2 exactly (the attack adds eps to feature i's output and nothing else),
so the paper's relative vulnerability (L' - L) / (L'_0 - L_0) reads how much more the superposed model loses.
Used by analysis/experiments/adversarial.py; tests: tests/analysis/test_adversarial.py.
"""
from __future__ import annotations

import numpy as np

EPS_FRACTION = 0.1  # the attack's norm as a fraction of the average input norm (the paper's 0.1)
SAMPLES = 20_000  # inputs per evaluation: the sampling error of the ratio is well under 1% at these sizes
SEED = 0


def sample_inputs(n: int, density, samples: int = SAMPLES, seed: int = SEED) -> np.ndarray:
    """(samples, n) inputs of the paper's law: each feature present with probability density (a scalar or one per
    feature), then U[0, 1]."""
    rng = np.random.default_rng(seed)
    present = rng.random((samples, n)) < np.broadcast_to(np.asarray(density, np.float64), (n,))
    return present * rng.random((samples, n))


def loss(W: np.ndarray, b: np.ndarray, x: np.ndarray, importance, delta=None) -> float:
    """Mean over samples of sum_i importance_i (x_i - ReLU(W^T W (x + delta) + b)_i)^2."""
    inputs = x if delta is None else x + delta
    out = np.maximum(inputs @ (W.T @ W) + b, 0.0)  # W^T W is symmetric: row or column alike
    return float(np.mean(np.sum(np.asarray(importance) * (x - out) ** 2, axis=-1)))


def attacks(W: np.ndarray) -> np.ndarray:
    """(n, n) unit attack directions, row i along column i of W^T W (a zero row where feature i has no column)."""
    G = W.T @ W
    norms = np.linalg.norm(G, axis=0)
    return np.where(norms[:, None] > 0, G.T / np.where(norms > 0, norms, 1.0)[:, None], 0.0)


def vulnerability(W: np.ndarray, b: np.ndarray, x: np.ndarray, importance, eps: float) -> tuple[float, int]:
    """(L' - L for the worst feature's attack, that feature) on the samples x, attack norm eps."""
    clean = loss(W, b, x, importance)
    attacked = [loss(W, b, x, importance, eps * d) for d in attacks(W)]
    worst = int(np.argmax(attacked))
    return attacked[worst] - clean, worst


def attack_norm(x: np.ndarray, fraction: float = EPS_FRACTION) -> float:
    """eps: `fraction` of the average L2 norm of the inputs."""
    return fraction * float(np.mean(np.linalg.norm(x, axis=-1)))


def orthogonal(n: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """(W (m, n), b (n,)) of a model without superposition: features 0..m-1 on the m axes, the others dropped."""
    return np.eye(m, n), np.zeros(n)


def relative_vulnerability(W: np.ndarray, b: np.ndarray, density, importance, samples: int = SAMPLES,
                           seed: int = SEED) -> dict:
    """The paper's (L' - L) / (L'_0 - L_0): the model's worst-feature vulnerability over that of `orthogonal` on the
    same inputs and attack norm (0.1 x their average norm)."""
    m, n = W.shape
    x = sample_inputs(n, density, samples, seed)
    eps = attack_norm(x)
    model, worst = vulnerability(W, b, x, importance, eps)
    baseline, _ = vulnerability(*orthogonal(n, m), x, importance, eps)
    return {"vulnerability": model, "baseline": baseline, "relative": model / baseline, "worst_feature": worst,
            "eps": eps}
