"""sweep/kinds.py: each model kind's forward pass and loss against numpy, its initialisation bitwise as Flax drew it, and
what each kind decides (neurons, exact loss, memory width)."""
from __future__ import annotations

import numpy as np
import pytest

from sweep import memory
from sweep.grid import build_grid


@pytest.mark.parametrize("n, m", [(3, 2), (5, 2)])  # n <= 2m applies W^T W once; n > 2m W^T (W x)
def test_model(n, m):
    import jax.numpy as jnp

    from sweep.kinds import KINDS, importance_weighted_mse_t

    rng = np.random.default_rng(n)
    W, b, x = rng.normal(size=(m, n)), rng.normal(size=n), rng.normal(size=(7, n))
    params = {"W": jnp.asarray(W, jnp.float32), "b": jnp.asarray(b, jnp.float32)}
    linear = x @ W.T @ W + b  # x' = W^T W x + b, row by row
    relu = np.maximum(linear, 0)
    np.testing.assert_allclose(KINDS["relu"].forward(params, jnp.asarray(x.T)), relu.T, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(KINDS["linear"].forward(params, jnp.asarray(x.T)), linear.T, rtol=1e-5, atol=1e-5)
    importance = rng.uniform(0.1, 2, n)
    loss = np.mean(importance * (x - relu) ** 2)  # mean over batch and features
    weights = jnp.asarray(importance)
    assert float(importance_weighted_mse_t(jnp.asarray(relu.T), jnp.asarray(x.T), weights)) == pytest.approx(loss, rel=1e-5)
    assert float(KINDS["relu"].loss(params, jnp.asarray(x.T), weights)) == pytest.approx(loss, rel=1e-5)


@pytest.mark.parametrize("kind", ["relu", "linear", "privileged", "abs"])
def test_every_kind_initialises_bitwise_as_flax_did(kind):
    """Runs made before sweep/kinds.py were initialised by Flax: each model still starts from those very weights."""
    import jax

    from sweep.kinds import KINDS
    from tests.conftest import flax_init

    for n, m, seed in [(5, 2, 0), (3, 7, 11), (40, 10, 3)]:
        key = jax.random.fold_in(jax.random.PRNGKey(seed), 12345)
        ours, reference = KINDS[kind].init(key, n, m), flax_init(key, n, m, untied=KINDS[kind].untied)
        assert sorted(ours) == sorted(reference) == sorted(["W", "b"] + (["W2"] if kind == "abs" else []))
        for name in reference:
            assert ours[name].dtype == reference[name].dtype and np.array_equal(ours[name], reference[name]), name


def test_each_kind_decides_its_neurons_its_exact_loss_and_its_memory_width():
    """What sweep/kinds.py says per kind reaches the table and the memory estimate (nothing else decides it)."""
    from sweep.config import build
    from sweep.kinds import KINDS
    from sweep.results import feature_table

    # neuron 0 reads features 0 and 1 (W_0i = 2, 0.8): the tied rule (W_ji > 0.5) puts both in it; the untied rule
    # rescales the row by its largest |W1_0i| (2): 0.4 for feature 1, so only feature 0; neuron 1 is empty
    W, b = np.array([[[2.0, 0.8, 0.0], [0.0, 0.0, 0.0]]]), np.zeros((1, 3))
    W2 = np.array([[[1.0, 0.0], [1.0, 0.0], [0.0, 0.0]]])
    expected = {"relu": [1, 1, 0], "linear": [1, 1, 0], "privileged": [1, 1, 0], "abs": [1, 0, 0]}
    for name, neurons in expected.items():
        signed = {"data": {"distribution": "signed_uniform"}} if KINDS[name].on_abs else {}
        cfg = build({"model": {"kind": name, "n_features": 3, "n_hidden": 2}, "seed": 0, "sparsity": 0.5}, signed)
        params = {"W": W, "b": b, **({"W2": W2} if KINDS[name].untied else {})}
        table = feature_table(build_grid(cfg), params, np.array([0.1]))
        assert table["neurons"].tolist() == neurons, name
        assert table["polysemantic_neurons"].iloc[0] == (name != "abs"), name
        assert np.isfinite(table["exact_loss"]).all() == (name == "relu"), name  # the closed form is the ReLU model's
        width = 3 + 2 if name in ("privileged", "abs") else 3  # a hidden ReLU keeps its (m, batch) activation
        assert memory.bytes_per_model(cfg) == 4 * (1024 * width * 10 // 2 + 8 * (2 * 3 + 3)) + 1024, name
