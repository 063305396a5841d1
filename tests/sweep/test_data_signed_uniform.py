"""data.distribution=signed_uniform: P(x_i = 0) = S, present values U[-1, 1); the trainer's layout is the transpose;
correlated sets keep their mask with signed values; sets of one are the independent signed law bit for bit."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sweep.data import sample_features

SAMPLES = 200_000


def signed_uniform_ok(values):
    values = np.sort(values)
    assert values.min() >= -1 and values.max() < 1
    assert values.mean() == pytest.approx(0.0, abs=5 * np.sqrt(1 / 3 / len(values)))
    assert values.var() == pytest.approx(1 / 3, abs=0.01)
    ks = np.abs((values + 1) / 2 - np.arange(1, len(values) + 1) / len(values)).max()  # Kolmogorov-Smirnov
    assert ks < 1.95 / np.sqrt(len(values)), ks  # 0.1% level


@pytest.mark.parametrize("rng", ["fast", "threefry"])
def test_signed_uniform_is_zero_with_the_sparsity_and_uniform_on_minus_one_one(rng):
    density = jnp.array([1.0, 0.3, 0.05])
    x = np.asarray(sample_features(jax.random.key(0), density, SAMPLES, "signed_uniform", rng))
    present = x != 0  # a present value is exactly 0 with probability 2^-24
    se = np.sqrt(np.asarray(density) * (1 - np.asarray(density)) / SAMPLES)
    assert np.all(np.abs(present.mean(axis=0) - density) <= 5 * se + 1e-5)
    for i in range(3):
        signed_uniform_ok(x[present[:, i], i])


def test_signed_layouts_sets_and_sets_of_one():
    density = jnp.asarray([1.0, 0.3, 0.05, 0.5], jnp.float32)
    a = sample_features(jax.random.key(1), density, 512, "signed_uniform")
    np.testing.assert_array_equal(sample_features(jax.random.key(1), density, 512, "signed_uniform", features_first=True),
                                  np.asarray(a).T)
    for correlation in ("correlated", "anticorrelated"):
        for features_first in (False, True):
            b = sample_features(jax.random.key(1), density, 512, "signed_uniform", features_first=features_first,
                                correlation=correlation, set_size=1)
            np.testing.assert_array_equal(np.asarray(b).T if features_first else b, a)
    x = np.asarray(sample_features(jax.random.key(2), jnp.full(4, 0.3), SAMPLES, "signed_uniform",
                                   correlation="correlated", set_size=2))
    on = x != 0
    split = (on[:, 0] != on[:, 1]) | (on[:, 2] != on[:, 3])  # a set is present as a whole
    assert split.sum() <= 3
    for i in range(4):
        signed_uniform_ok(x[on[:, i], i])
