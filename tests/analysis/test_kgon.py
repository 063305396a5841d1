"""k-gons of Chen et al. 2023 (analysis/kgon.py) and the SGLD estimator of the LLC (analysis/llc.py)."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

from analysis.kgon import hessian, kgon_optimum, monte_carlo_loss, optimum_params, population_loss
from analysis.kgon_llc import calibrate, derived_llc
from analysis.llc import SGLDConfig, linear_regression_loss, llc_estimates, refine_minimum, sgld_losses
from sweep.data import sample_features
from sweep.kinds import KINDS, importance_weighted_mse_t


@pytest.mark.parametrize("k, paper", [(5, 0.06874), (6, 0.04819)])
def test_paper_losses_c6(k, paper):
    """Chen et al. 2023 tabulate L = 0.06874 for the 5-gon and 0.04819 for the 6-gon at c = 6."""
    assert kgon_optimum(k, 6).loss == pytest.approx(paper, abs=1e-5)


def test_dead_features_decouple():
    """L(k+^p, c) = (k/c) L(k, k) + (c - k)/(3c) - p/(4c^2) (docs/experiments/kgons.md), radius independent of c."""
    alone, plus = kgon_optimum(5, 5), kgon_optimum(5, 7, 1)
    assert plus.loss == pytest.approx(5 / 7 * alone.loss + 2 / 21 - 1 / 196, abs=1e-9)
    assert plus.radius == pytest.approx(alone.radius, abs=1e-6) and plus.plus_bias == pytest.approx(1 / 14, abs=1e-6)


@pytest.mark.parametrize("k, c, plus", [(5, 6, 1), (7, 8, 0), (4, 6, 2)])
def test_exact_loss_matches_monte_carlo(k, c, plus):
    opt = kgon_optimum(k, c, plus)
    mc, se = monte_carlo_loss(*optimum_params(opt), n=400_000, seed=k + c)
    assert abs(mc - opt.loss) < 4 * se + 1e-12


def test_exact_loss_at_random_weights_matches_monte_carlo():
    """The closed form is the loss everywhere, not only at k-gons (positive and negative biases, any Gram)."""
    rng = np.random.default_rng(1)
    W, b = rng.normal(size=(2, 5)), rng.normal(scale=0.5, size=5)
    with jax.enable_x64(True):
        exact = float(population_loss(jnp.asarray(W), jnp.asarray(b)))
    mc, se = monte_carlo_loss(W, b, n=400_000, seed=2)
    assert abs(mc - exact) < 4 * se


def test_engine_anticorrelated_law_is_one_hot_uniform():
    """data.correlation=anticorrelated, data.set_size=c, sparsity 0: one active feature, uniform, value U[0,1);
    the engine's loss on it (mean over features) is the paper's loss divided by c."""
    c, n = 6, 100_000
    x_t = sample_features(jax.random.PRNGKey(0), jnp.ones(c), n, features_first=True, correlation="anticorrelated",
                          set_size=c)
    x = np.asarray(x_t).T
    assert ((x != 0).sum(1) == 1).all()
    assert scipy.stats.chisquare(np.bincount(x.argmax(1), minlength=c)).pvalue > 1e-3
    assert scipy.stats.kstest(x.max(1), "uniform").pvalue > 1e-3
    W, b = optimum_params(kgon_optimum(6, c))
    engine = importance_weighted_mse_t(KINDS["relu"].forward({"W": W, "b": b}, x_t), x_t, jnp.ones(c))
    per_sample = np.sum((x - np.maximum(x @ np.asarray(W.T @ W) + np.asarray(b), 0)) ** 2, axis=1)
    assert float(engine) * c == pytest.approx(0.04819, abs=4 * per_sample.std() / np.sqrt(n))


@pytest.mark.parametrize("k", [5, 6])
def test_kgon_hessian_null_space_is_the_rotation(k):
    """c = k: rank 3k - 1, positive definite across the orbit; the null vector is the rotation's tangent."""
    opt = kgon_optimum(k, k)
    H = hessian(opt)
    eigenvalues = np.linalg.eigvalsh(H)
    assert abs(eigenvalues[0]) < 1e-8 and eigenvalues[1] > 1e-2
    W, _ = optimum_params(opt)
    tangent = np.concatenate([(np.array([[0.0, -1.0], [1.0, 0.0]]) @ np.asarray(W, np.float64)).ravel(), np.zeros(k)])
    assert np.linalg.norm(H @ tangent) < 1e-6 * np.linalg.norm(tangent)
    assert derived_llc(k) == (len(eigenvalues) - 1) / 2


def _regression(G=2, n=10_000, d=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(G, n, d))
    y = x @ np.ones(d) + rng.normal(size=(G, n))
    xy = jnp.asarray(np.concatenate([x, y[..., None]], -1), jnp.float32)
    return refine_minimum(linear_regression_loss, jnp.zeros((G, d)), xy), xy


def test_llc_of_a_regular_model_is_half_its_dimension():
    w, xy = _regression()
    cfg = SGLDConfig(steps=3000, burn_in=500, chains=4, batch_size=500)
    lam = llc_estimates(linear_regression_loss, w, xy, jnp.full(2, 1e-4), jnp.full(2, 1.0), jax.random.PRNGKey(0), cfg)
    assert np.mean(lam) == pytest.approx(2.0, rel=0.15)


def test_llc_chains_in_a_group_run_as_alone():
    w, xy = _regression()
    cfg = SGLDConfig(steps=50, burn_in=10, chains=2, batch_size=100)
    key = jax.random.PRNGKey(3)
    both = sgld_losses(linear_regression_loss, w, xy, jnp.asarray([1e-4, 3e-4]), jnp.asarray([1.0, 5.0]), key, cfg)
    alone = sgld_losses(linear_regression_loss, w[:1], xy[:1], jnp.asarray([1e-4]), jnp.asarray([1.0]), key, cfg)
    np.testing.assert_allclose(both[:1], alone, rtol=1e-5, atol=1e-9)
    assert not np.allclose(both[0], both[1])


def test_llc_at_the_5gon():
    """lambda = (3k - 1) / 2 = 7 at the regular 5-gon with c = 5 (docs/experiments/kgons.md)."""
    table = calibrate(5, 20_000, [5e-5], [1.0], SGLDConfig(steps=3000, burn_in=500, chains=4, batch_size=1000))
    assert table.lambda_hat.mean() == pytest.approx(7.0, rel=0.15)
