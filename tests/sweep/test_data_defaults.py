"""sample_features' documented defaults: set_size 1 (a correlation named alone is the independent law, bit for bit,
as the docstring of `_set_features` says of sets of one), the (batch, features) layout, the uniform law, the fast rng."""
import jax
import jax.numpy as jnp
import numpy as np

from sweep.data import sample_features


def test_a_correlation_without_a_set_size_is_the_independent_law():
    density = jnp.asarray([1.0, 0.3, 0.05, 0.5], jnp.float32)
    independent = np.asarray(sample_features(jax.random.key(4), density, 256))
    assert independent.shape == (256, 4)
    for correlation in ("correlated", "anticorrelated"):
        np.testing.assert_array_equal(sample_features(jax.random.key(4), density, 256, correlation=correlation), independent)
    explicit = sample_features(jax.random.key(4), density, 256, "uniform", "fast", features_first=False,
                               correlation="none", set_size=1)
    np.testing.assert_array_equal(explicit, independent)
