"""Every option trains, and trains what it says: the trainer against AdamW, the loss, the schedules, the
importance kinds and the data laws written out by hand here (one model at a time, a Python loop over steps).

Only the initial weights (Xavier-normal, tested in test_engine.py) and the batches (tested in test_data.py)
come from the code under test; everything a step does with them is written out below. The grids are built
so that a plausible one-line bug moves the result far beyond the tolerance (1e-5): weight decay 0.5 at
lr 1e-2 (a bias left undecayed moves b by ~1e-3), two seeds (a loss reduced over models is off by ~10%).
"""
from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sweep.data import sample_features
from sweep.grid import build_grid
from sweep.train import data_key, eval_key, model_key, train_grid
from tests.conftest import flax_init, make_config

STEPS, BATCH, LOG_EVERY, EVAL_BATCHES = 60, 64, 20, 4


def hand_importance(option: dict, n: int, param) -> np.ndarray:
    """Per-feature importance as the README defines each kind."""
    kind = option.get("importance", {}).get("kind", "geometric")
    if kind == "geometric":
        return np.array([param**i for i in range(n)])
    if kind == "constant":
        return np.full(n, param)
    if kind == "extra":
        return np.array([1.0] * (n - 1) + [param])
    return np.array(option["importance"]["values"], float)


def hand_lr(option: dict, lr: float, count: int) -> float:
    """The learning rate of update number `count` (0-based), as optax's schedules define it."""
    schedule = option.get("optim", {}).get("schedule", "constant")
    if schedule == "cosine":
        return lr * 0.5 * (1 + math.cos(math.pi * min(count, STEPS) / STEPS))
    if schedule == "warmup_cosine":
        warmup = option["optim"]["warmup_steps"]
        if count < warmup:
            return lr * count / warmup
        return lr * 0.5 * (1 + math.cos(math.pi * (count - warmup) / (STEPS - warmup)))
    return lr


OPTIONS = {
    # the paper's model; weight decay large enough that decaying W but not b (or neither) is far off
    "geometric, wd 0 and 0.5": dict(sparsity=[0.7], seed=[0, 1], optim={"lr": 1e-2, "weight_decay": [0.0, 0.5]}),
    "constant importance, cosine": dict(sparsity=[0.5], importance={"kind": "constant", "value": [0.5, 2.0]},
                                        optim={"lr": 1e-2, "schedule": "cosine", "weight_decay": 0.1}),
    "list importance, warmup_cosine": dict(sparsity=[0.5], importance={"kind": "list", "values": [3.0, 0.2, 1.0, 0.5, 2.0]},
                                           optim={"lr": 1e-2, "schedule": "warmup_cosine", "warmup_steps": 15,
                                                  "weight_decay": 0.1}),
    "per-feature sparsity, linear": dict(data={"feature_sparsity": [0.0, 0.5, 0.9, 0.2, 0.99]}, model={"kind": "linear"},
                                         optim={"lr": 1e-2, "weight_decay": 0.1}),
    "normal features, density, extra": dict(density=[0.3], data={"distribution": "normal"},
                                            importance={"kind": "extra", "relative": [0.2, 4.0]},
                                            optim={"lr": 1e-2, "weight_decay": 0.1, "b1": 0.8, "b2": 0.99, "eps": 1e-3}),
    "threefry rng, m=3": dict(sparsity=[0.9], data={"rng": "threefry"}, model={"n_hidden": 3}, seed=[2],
                              optim={"lr": 3e-2, "weight_decay": 0.05}),
    # untied W1, W2 (both decayed), target |x|, signed U[-1, 1] features (docs/experiments/computation.md)
    "abs model, signed uniform": dict(density=[0.3], model={"kind": "abs", "n_hidden": 4}, seed=[0, 1],
                                      data={"distribution": "signed_uniform"}, optim={"lr": 1e-2, "weight_decay": 0.5}),
}


def hand_train(option: dict, cfg, grid, i: int):
    """Model i of the grid trained alone, every step written out: (W, b, per-step losses, final loss, W2 or None)."""
    n, relu, untied = cfg.model.n_features, cfg.model.kind in ("relu", "abs"), cfg.model.kind == "abs"
    coords = grid.coords.iloc[i]
    kind = cfg.importance.kind
    param = {"geometric": coords.get("importance_decay"), "constant": coords.get("importance_value"),
             "extra": coords.get("importance_relative")}.get(kind)
    importance = jnp.asarray(hand_importance(option, n, param), jnp.float32)
    if cfg.data.feature_sparsity is not None:
        density = 1.0 - np.asarray(cfg.data.feature_sparsity)
    else:
        density = np.full(n, float(coords["density"]))
    density = jnp.asarray(density, jnp.float32)
    lr, wd = float(coords["lr"]), float(coords["weight_decay"])
    b1, b2, eps = cfg.optim.b1, cfg.optim.b2, cfg.optim.eps
    key = model_key(jnp.uint32(grid.seed[i]), jnp.uint32(grid.stream[i]))
    params = flax_init(jax.random.fold_in(key, 0), n, cfg.model.n_hidden, untied=untied)
    params = {k: params[k] for k in ("W", "W2", "b") if k in params}
    batches = data_key(jnp.uint32(grid.seed[i]))

    @jax.jit
    def draw(k):
        return sample_features(k, density, BATCH, cfg.data.distribution, cfg.data.rng)  # (batch, n)

    def loss(p, x):
        if untied:  # model.kind=abs: y' = ReLU(W2 ReLU(W1 x) + b) against |x|. ReLU'(0) = 0, as torch's and jax.nn.relu:
            # here z = 0 happens (every neuron off: y' = ReLU(b), b = 0 at first) where |x| > 0, and jnp.maximum's 1/2 differs
            def relu_(z):
                return jnp.where(z > 0, z, 0.0)

            out = relu_(relu_(x @ p["W"].T) @ p["W2"].T + p["b"])
            return jnp.mean(importance * (jnp.abs(x) - out) ** 2)
        out = x @ p["W"].T @ p["W"] + p["b"]
        out = jnp.maximum(out, 0.0) if relu else out
        return jnp.mean(importance * (x - out) ** 2)

    @jax.jit
    def step(p, m, v, x, t, lr_t):
        value, g = jax.value_and_grad(loss)(p, x)
        m = {k: b1 * m[k] + (1 - b1) * g[k] for k in p}
        v = {k: b2 * v[k] + (1 - b2) * g[k] ** 2 for k in p}
        new = {k: p[k] - lr_t * ((m[k] / (1 - b1**t)) / (jnp.sqrt(v[k] / (1 - b2**t)) + eps) + wd * p[k]) for k in p}
        return new, m, v, value

    m = {k: jnp.zeros_like(a) for k, a in params.items()}
    v = {k: jnp.zeros_like(a) for k, a in params.items()}
    losses = []
    for s in range(cfg.steps):
        x = draw(jax.random.fold_in(jax.random.fold_in(batches, 1), s))
        params, m, v, value = step(params, m, v, x, s + 1, hand_lr(option, lr, s))
        losses.append(float(value))
    evaluation = eval_key()
    final = np.mean([float(jax.jit(loss)(params, draw(jax.random.fold_in(evaluation, j)))) for j in range(EVAL_BATCHES)])
    return np.asarray(params["W"]), np.asarray(params["b"]), np.asarray(losses), final, params.get("W2")


@pytest.mark.parametrize("name", OPTIONS)
def test_training_matches_a_hand_written_adamw_loop(name):
    option = OPTIONS[name]
    cfg = make_config(**option, steps=STEPS, batch_size=BATCH,
                      exec={"log_every": LOG_EVERY, "eval_batches": EVAL_BATCHES, "eval_max_batches": EVAL_BATCHES})
    grid = build_grid(cfg)
    trained = train_grid(cfg, grid)
    assert trained.history_steps.tolist() == [LOG_EVERY - 1, 2 * LOG_EVERY - 1, 3 * LOG_EVERY - 1]
    assert (trained.eval_batches == EVAL_BATCHES).all()
    for i in range(len(grid)):
        W, b, losses, final, W2 = hand_train(option, cfg, grid, i)
        np.testing.assert_allclose(trained.W[i], W, atol=1e-5, rtol=0)
        if W2 is not None:
            np.testing.assert_allclose(trained.params["W2"][i], W2, atol=1e-5, rtol=0)
        np.testing.assert_allclose(trained.b[i], b, atol=1e-5, rtol=0)
        # the logged loss: model i's own mean over each interval of LOG_EVERY steps
        np.testing.assert_allclose(trained.history_loss[:, i], losses.reshape(-1, LOG_EVERY).mean(axis=1), rtol=1e-5)
        np.testing.assert_allclose(trained.final_loss[i], final, rtol=1e-5)


def test_the_options_change_what_is_trained():
    """The hand loop above is not blind to the option: each alternative gives other weights."""
    base = OPTIONS["constant importance, cosine"]
    cfg = make_config(**base, steps=STEPS, batch_size=BATCH, exec={"log_every": LOG_EVERY, "eval_max_batches": 32})
    grid = build_grid(cfg)
    W_cosine = hand_train(base, cfg, grid, 0)[0]
    flat = dict(base, optim={**base["optim"], "schedule": "constant"})
    W_constant = hand_train(flat, make_config(**flat, steps=STEPS, batch_size=BATCH), grid, 0)[0]
    assert np.abs(W_cosine - W_constant).max() > 1e-3


@pytest.mark.parametrize("rng", ["fast", "threefry"])
def test_normal_features_are_signed_standard_normal_where_present(rng):
    density = jnp.array([1.0, 0.4, 0.05])
    x = np.asarray(sample_features(jax.random.key(1), density, 200_000, "normal", rng))
    present = x != 0
    np.testing.assert_allclose(present.mean(axis=0), density, atol=0.004)
    for i in range(3):
        values = x[present[:, i], i]
        assert values.mean() == pytest.approx(0.0, abs=4 / np.sqrt(len(values)))
        assert values.var() == pytest.approx(1.0, abs=0.03)
        assert (values < 0).mean() == pytest.approx(0.5, abs=0.02)
        assert np.abs(values).max() > 3  # tails, not U[0, 1]
    # the trainer's (features, batch) layout draws the same batch, transposed
    for distribution in ("uniform", "normal"):
        batch = sample_features(jax.random.key(2), density, 64, distribution, rng)
        np.testing.assert_array_equal(sample_features(jax.random.key(2), density, 64, distribution, rng, features_first=True),
                                      np.asarray(batch).T)
