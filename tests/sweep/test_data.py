"""The feature distribution: P(x_i = 0) = S, present values U[0, 1]; the fast generator is uniform and independent."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sweep.data import fast_uniform, sample_features


@pytest.mark.parametrize("rng", ["fast", "threefry"])
def test_zero_fraction_is_sparsity_and_values_are_uniform(rng):
    density = jnp.array([1.0, 0.3, 0.05])
    x = np.asarray(sample_features(jax.random.key(0), density, 200_000, rng=rng))
    present = x > 0
    np.testing.assert_allclose(present.mean(axis=0), density, atol=0.004)
    for i in range(3):
        values = np.sort(x[present[:, i], i])
        assert values.min() >= 0 and values.max() < 1
        assert values.mean() == pytest.approx(0.5, abs=0.01)
        assert values.var() == pytest.approx(1 / 12, abs=0.003)
        ks = np.abs(values - np.arange(1, len(values) + 1) / len(values)).max()  # Kolmogorov-Smirnov
        assert ks < 1.63 / np.sqrt(len(values)), ks  # 1% level


def test_fast_uniform_is_uncorrelated_across_entries_steps_and_keys():
    key = jax.random.key(7)
    a = np.asarray(fast_uniform(jax.random.fold_in(key, 0), (4096, 20))).ravel()
    b = np.asarray(fast_uniform(jax.random.fold_in(key, 1), (4096, 20))).ravel()
    c = np.asarray(fast_uniform(jax.random.key(8), (4096, 20))).ravel()
    bound = 4 / np.sqrt(a.size)  # ~4 sigma for independent uniforms
    assert abs(np.corrcoef(a[:-1], a[1:])[0, 1]) < bound  # neighbouring entries
    assert abs(np.corrcoef(a, b)[0, 1]) < bound  # consecutive steps
    assert abs(np.corrcoef(a, c)[0, 1]) < bound  # different models
    counts = np.histogram(a, bins=64, range=(0, 1))[0]
    chi2 = ((counts - a.size / 64) ** 2 / (a.size / 64)).sum()
    assert chi2 < 110  # chi-square 63 dof, p ~ 2e-4


def test_every_draw_is_a_pure_function_of_the_key():
    key = jax.random.key(3)
    np.testing.assert_array_equal(fast_uniform(key, (8, 5)), fast_uniform(key, (8, 5)))
    stacked = jax.vmap(lambda k: fast_uniform(k, (8, 5)))(jnp.stack([key, jax.random.key(4)]))
    np.testing.assert_array_equal(stacked[0], fast_uniform(key, (8, 5)))


def test_data_layouts():
    import jax

    from sweep.data import fast_uniform, uniform

    key = jax.random.key(5)
    draw = np.asarray(fast_uniform(key, (3, 5)))
    assert draw.shape == (3, 5) and len(np.unique(draw)) == 15
    np.testing.assert_array_equal(fast_uniform(key, (5, 3), features_first=True), draw.T)
    np.testing.assert_array_equal(uniform(key, (3, 5), "fast"), draw)
    np.testing.assert_array_equal(uniform(key, (3, 5), "threefry"), jax.random.uniform(key, (3, 5)))
    np.testing.assert_array_equal(uniform(key, (5, 3), "threefry", features_first=True), jax.random.uniform(key, (3, 5)).T)
