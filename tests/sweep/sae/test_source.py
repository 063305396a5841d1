"""Sources: each toy model's own data law through its own W, the best seed of each cell, Sharkey-style data."""
import jax
import numpy as np
import pytest

from sweep.config import ConfigError
from sweep.data import sample_features
from sweep.sae import source
from sweep.sae.config import SyntheticConfig
from tests.conftest import train_run


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return train_run(tmp_path_factory.mktemp("run"), {"model": {"kind": "privileged", "n_features": 4, "n_hidden": 2},
                                                      "sparsity": [0.0, 0.9], "seed": [0, 1, 2], "steps": 50})


def test_a_run_gives_each_model_its_weights_density_and_hidden_relu(run):
    src = source.from_run(run)
    from sweep.results import load_weights
    W = load_weights(run)["W"]
    assert len(src) == 6 and src.hidden_relu and src.d == 2
    np.testing.assert_array_equal(src.features, W)
    np.testing.assert_allclose(src.density[:, 0], np.tile([1.0, 0.1], 3), rtol=1e-6)
    key = jax.random.PRNGKey(7)
    h = source.activations(key, src.features[1], src.density[1], 32, src)
    x = sample_features(key, src.density[1], 32, features_first=True)
    np.testing.assert_allclose(h, np.maximum(W[1] @ np.asarray(x), 0), rtol=1e-5, atol=1e-6)


def test_best_selection_keeps_each_cells_lowest_loss_seed(run):
    from sweep.results import load_run
    models = load_run(run).drop_duplicates("model_id")
    src = source.from_run(run, "best")
    assert len(src) == 2
    for _, row in src.coords.iterrows():
        cell = models[models["sparsity"] == row["sparsity"]]
        assert row["model_loss"] == cell["loss"].min()


def test_synthetic_density_decays_and_sums_to_the_mean_active_count():
    p = source.synthetic_density(512, 5.0, 0.99)
    assert np.isclose(p.sum(), 5.0) and np.all(np.diff(p) < 0) and np.isclose(p[1] / p[0], 0.99)
    src = source.synthetic(SyntheticConfig(d=16, n_features=32, seed=[0, 1]))
    np.testing.assert_allclose(np.linalg.norm(src.features, axis=1), 1.0, rtol=1e-5)
    assert not np.allclose(src.features[0], src.features[1]) and src.represented.all()


def test_a_path_without_runs_is_one_config_error(tmp_path):
    with pytest.raises(ConfigError, match="holds no complete run"):
        source.run_dirs(tmp_path)
