"""Common random numbers across densities (issue 25): a step's random numbers depend on the seed only and each
density thresholds them, so the trainer draws a seed's numbers once for all its densities (`Draws`) where the stack
has fewer seeds than streams per device. Drawn once or per stream, every stream's batch is the same, bit for bit,
and every model trains as if alone."""
import jax
import jax.numpy as jnp
import numpy as np

from sweep.data import sample_features
from sweep.grid import build_grid
from sweep.train import Trainer, data_key, stacked_hyper, step_key, train_grid
from tests.conftest import make_config

SMALL = dict(steps=200, batch_size=64, exec={"log_every": 100, "progress": False, "plots": False, "eval_max_batches": 32})


def test_shared_draws_give_each_stream_its_own_batch_bitwise():
    cfg = make_config(density=[1.0, 0.4, 0.1], seed=[3, 5], **SMALL)
    grid = build_grid(cfg)
    stacked, trainer = stacked_hyper(grid, devices=1), Trainer(cfg)
    assert stacked.draws is not None and len(stacked.draws.key) == 2  # 2 seeds < 6 streams: drawn once per seed
    assert stacked_hyper(grid, devices=6).draws is None  # one stream per device: each draws its own
    for step in (0, 7):
        drawn = jax.vmap(lambda key: trainer.draw(step_key(key, step)))(stacked.draws.key)
        for u in range(len(grid)):
            shared = trainer.features(jax.tree.map(lambda a: a[stacked.draws.index[u]], drawn),
                                      jax.tree.map(lambda a: a[u], stacked.stream))
            alone = sample_features(step_key(data_key(jnp.uint32(grid.seed[u])), step), jnp.asarray(grid.density[u]), 64,
                                    features_first=True)
            np.testing.assert_array_equal(shared, alone)


def test_densities_of_a_seed_threshold_the_same_numbers():
    """A denser batch holds every entry of a sparser one of the same seed and step, rescaled: one u per entry."""
    key = step_key(data_key(jnp.uint32(0)), 3)
    dense, sparse = (np.asarray(sample_features(key, jnp.full(5, d), 256)) for d in (0.8, 0.2))
    on = sparse > 0
    np.testing.assert_allclose(dense[on], sparse[on] * 0.2 / 0.8, rtol=1e-6)
    other = np.asarray(sample_features(step_key(data_key(jnp.uint32(1)), 3), jnp.full(5, 0.2), 256))
    assert not np.array_equal(other, sparse)  # another seed: other numbers


def test_a_seed_swept_over_densities_trains_each_model_as_if_alone():
    cfg = make_config(density=[1.0, 0.3, 0.05], importance={"decay": [0.8, 1.0]}, seed=[2, 4], **SMALL)
    grid = build_grid(cfg)
    assert stacked_hyper(grid, devices=len(jax.devices())).draws is not None  # the fused run shares the draws
    fused = train_grid(cfg, grid)
    for i in range(len(grid)):
        alone = train_grid(cfg, grid.select([i]))
        np.testing.assert_allclose(alone.W[0], fused.W[i], atol=1e-5)
        np.testing.assert_allclose(alone.b[0], fused.b[i], atol=1e-5)
        np.testing.assert_allclose(alone.final_loss[0], fused.final_loss[i], rtol=1e-5)
        np.testing.assert_allclose(alone.history_loss[:, 0], fused.history_loss[:, i], rtol=1e-5)
