"""analysis/neurons.py: computed_features (the share of Var|x_i| the model computes, R2_i) on hand-built weights:
its values against closed forms and an independent Monte Carlo, and the m/2 bound of codes without superposition."""
import numpy as np
import pytest

from analysis.neurons import computed_features, pair_code_loss

N, M, D = 6, 4, 0.01
VAR = D / 3 - D**2 / 4  # Var|x_i|: |x_i| = 0 w.p. 1-d else U[0, 1]


def mono_code() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feature 0: a ReLU(x)/ReLU(-x) pair; feature 1: two ReLU(x) neurons (gain 1/2 each); 2..5: the constant d/2."""
    W1, W2 = np.zeros((M, N)), np.zeros((N, M))
    W1[0, 0], W1[1, 0], W1[2, 1], W1[3, 1] = 1.0, -1.0, 1.0, 1.0
    W2[0, :2], W2[1, 2:] = 1.0, 0.5
    return W1, W2, np.r_[0.0, 0.0, [D / 2] * (N - 2)]


def test_a_pair_computes_all_one_sign_half_and_no_neuron_nothing():
    r2 = computed_features(*mono_code(), D, samples=400_000)
    assert r2[0] == pytest.approx(1.0, abs=0.03)
    # one sign: y = ReLU(x) misses |x| on x < 0, E = d/6: R2 = 1 - (d/6) / Var|x| = 0.496, under the bound 1/2
    assert r2[1] == pytest.approx(1 - D / 6 / VAR, abs=0.03)
    np.testing.assert_allclose(r2[2:], 0.0, atol=0.01)
    assert r2.sum() <= M / 2 + 0.05  # no superposition: at most m/2 (the duplicate of feature 1 adds nothing)


def test_against_an_independent_monte_carlo_of_a_superposed_code():
    """Features 0..2 share two neurons, ReLU(s) and ReLU(-s), s = x_0 + x_1 + x_2, each read out as |s|: every other
    present feature of the group is interference."""
    W1, W2 = np.zeros((M, N)), np.zeros((N, M))
    W1[0, :3], W1[1, :3], W2[:3, :2] = 1.0, -1.0, 1.0
    b = np.r_[0.0, 0.0, 0.0, [D / 2] * (N - 3)]
    rng = np.random.default_rng(5)
    x = np.where(rng.uniform(size=(2_000_000, N)) < D, rng.uniform(-1, 1, (2_000_000, N)), 0.0)
    y = np.maximum(np.maximum(x @ W1.T, 0) @ W2.T + b, 0)
    expected = 1 - np.mean((y - np.abs(x)) ** 2, axis=0) / VAR
    np.testing.assert_allclose(computed_features(W1, W2, b, D, samples=2_000_000, seed=1), expected, atol=0.05)
    assert expected[:3].max() < 0.2  # the interference costs about as much as the feature is worth


def code_loss(W1, W2, b, importance, density, samples=400_000, seed=3) -> float:
    rng = np.random.default_rng(seed)
    x = np.where(rng.uniform(size=(samples, W1.shape[1])) < density, rng.uniform(-1, 1, (samples, W1.shape[1])), 0.0)
    return float(np.mean(importance * (np.maximum(np.maximum(x @ W1.T, 0) @ W2.T + b, 0) - np.abs(x)) ** 2))


def test_the_pair_code_on_given_features_and_against_one_neuron_per_feature():
    importance = 0.8 ** np.arange(N)
    W1, W2, _ = mono_code()
    W1[2:, 1], W2[1, 2:] = 0.0, 0.0
    W1[2, 2], W1[3, 2], W2[2, 2:] = 1.0, -1.0, 1.0  # pairs on features 0 and 2
    b = np.r_[0.0, 0.5, 0.0, [0.5] * (N - 3)]
    assert pair_code_loss(1.0, importance, M, [0, 2]) == pytest.approx(code_loss(W1, W2, b, importance, 1.0), rel=0.01)
    assert pair_code_loss(1.0, importance, M, [0, 1]) == pair_code_loss(1.0, importance, M)
    # one neuron per feature on 0..3, y = ReLU(2/5 ReLU(x) + 2/5) (the best such readout): worse than the top two pairs
    single, W2s = np.eye(M, N), np.eye(N, M) * 0.4
    singles = code_loss(single, W2s, np.r_[[0.4] * M, [0.5] * (N - M)], importance, 1.0)
    assert singles == pytest.approx(np.sum(importance * np.r_[[1 / 15] * M, [1 / 12] * (N - M)]) / N, rel=0.01)
    assert singles > 1.2 * pair_code_loss(1.0, importance, M)
    # the experiment's dense point: pairs on 0..18 and 20 instead of 0..19 cost exactly 5% more (0.8^19 0.2 / (0.8^20 / 0.2))
    assert pair_code_loss(1.0, 0.8 ** np.arange(100), 40, [*range(19), 20]) == pytest.approx(
        1.05 * pair_code_loss(1.0, 0.8 ** np.arange(100), 40), rel=1e-9)
