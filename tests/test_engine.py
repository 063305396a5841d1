"""The engine trains each model exactly as if alone, with the notebook's optimizer, and learns the paper's solutions."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from sweep.data import sample_features
from sweep.grid import build_grid
from sweep.model import ToyModel, importance_weighted_mse
from sweep.train import make_optimizer, model_key, train_grid
from tests.conftest import make_config

SMALL = dict(steps=300, batch_size=128, exec={"log_every": 100, "progress": False, "plots": False})


def test_fused_grid_equals_each_model_trained_alone():
    cfg = make_config(sparsity=[0.0, 0.9], importance={"decay": [0.7, 0.9]}, seed=[0, 1], **SMALL)
    grid = build_grid(cfg)
    assert len(grid) == 8
    fused = train_grid(cfg, grid)
    for i in range(len(grid)):
        alone = train_grid(cfg, grid.select([i]))
        np.testing.assert_allclose(alone.W[0], fused.W[i], atol=1e-5)
        np.testing.assert_allclose(alone.b[0], fused.b[i], atol=1e-5)
        np.testing.assert_allclose(alone.final_loss[0], fused.final_loss[i], rtol=1e-5)


def test_model_result_does_not_depend_on_its_neighbours_in_the_grid():
    """Same coordinates in a different grid (other values beside it, other order) -> same model."""
    small = make_config(sparsity=[0.9], seed=[1], **SMALL)
    big = make_config(sparsity=[0.5, 0.9, 0.0], seed=[3, 1], **SMALL)
    grid = build_grid(big)
    row = grid.coords.index[(grid.coords.sparsity == 0.9) & (grid.coords.seed == 1)][0]
    np.testing.assert_allclose(train_grid(small, build_grid(small)).W[0], train_grid(big, grid).W[row], atol=1e-5)


def test_vmapped_training_matches_a_plain_per_model_loop():
    """Reference: one model, python loop over steps, no vmap/scan/jit of the trainer."""
    cfg = make_config(sparsity=[0.8], importance={"decay": 0.9}, seed=[4], steps=50, batch_size=64,
                      exec={"log_every": 25, "progress": False, "plots": False})
    grid = build_grid(cfg)
    key = model_key(jnp.uint32(grid.seed[0]), jnp.uint32(grid.stream[0]))
    model = ToyModel(5, 2, relu=True)
    params = model.init(jax.random.fold_in(key, 0), jnp.zeros((1, 5)))["params"]
    tx = optax.adamw(1e-3, b1=0.9, b2=0.999, eps=1e-8, weight_decay=0.01)
    opt_state = tx.init(params)
    importance = jnp.asarray(grid.importance[0])
    density = jnp.asarray(grid.density[0])

    def loss(p, x):
        W, b = p["W"], p["b"]
        return importance_weighted_mse(jax.nn.relu(x @ W.T @ W + b), x, importance)

    for step in range(cfg.steps):
        x = sample_features(jax.random.fold_in(jax.random.fold_in(key, 1), step), density, 64)
        grads = jax.grad(loss)(params, x)
        updates, opt_state = tx.update(grads, opt_state, params)
        params = optax.apply_updates(params, updates)
    trained = train_grid(cfg, grid)
    np.testing.assert_allclose(trained.W[0], params["W"], atol=1e-5)
    np.testing.assert_allclose(trained.b[0], params["b"], atol=1e-5)


def test_optimizer_is_torch_adamw_with_weight_decay_0_01():
    """Two steps against the AdamW update written out by hand (torch.optim.AdamW semantics)."""
    cfg = make_config()
    tx = make_optimizer(cfg.optim.lr, cfg.optim.weight_decay, cfg.optim, cfg.steps)
    p = np.array([0.5, -2.0])
    grads = [np.array([0.1, -0.3]), np.array([-0.2, 0.05])]
    state, params = tx.init(jnp.asarray(p)), jnp.asarray(p)
    m = v = np.zeros(2)
    for t, g in enumerate(grads, start=1):
        updates, state = tx.update(jnp.asarray(g), state, params)
        params = optax.apply_updates(params, updates)
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g**2
        m_hat, v_hat = m / (1 - 0.9**t), v / (1 - 0.999**t)
        p = p - 1e-3 * 0.01 * p - 1e-3 * m_hat / (np.sqrt(v_hat) + 1e-8)
    np.testing.assert_allclose(np.asarray(params), p, rtol=1e-6)


def test_initialisation_is_per_model_xavier_normal():
    """std sqrt(2/(m+n)) on each model's own W, whatever the number of stacked models."""
    cfg = make_config(model={"n_features": 40, "n_hidden": 10}, seed=list(range(64)), sparsity=0.5, steps=1,
                      exec={"log_every": 1, "progress": False, "plots": False}, optim={"lr": 1e-12})
    W = train_grid(cfg, build_grid(cfg)).W
    assert W.std() == pytest.approx(np.sqrt(2 / 50), rel=0.03)


def test_linear_model_learns_the_top_m_features_at_any_sparsity():
    cfg = make_config(model={"kind": "linear"}, sparsity=[0.0, 0.7, 0.9], steps=10_000, exec={"progress": False, "plots": False})
    norms = np.linalg.norm(train_grid(cfg, build_grid(cfg)).W, axis=1)  # (G, n)
    np.testing.assert_allclose(norms[:, :2], 1.0, atol=0.1)
    assert (norms[:, 2:] < 0.1).all(), norms


def test_relu_model_superposes_more_than_m_features_when_sparse():
    cfg = make_config(sparsity=[0.0, 0.9], seed=[0, 1], steps=10_000, exec={"progress": False, "plots": False})
    grid = build_grid(cfg)
    norms = np.linalg.norm(train_grid(cfg, grid).W, axis=1)
    represented = (norms > 0.5).sum(axis=1)
    dense, sparse = grid.coords.sparsity.to_numpy() == 0.0, grid.coords.sparsity.to_numpy() == 0.9
    assert (represented[dense] == 2).all(), norms[dense]
    assert (represented[sparse] > 2).all(), norms[sparse]
