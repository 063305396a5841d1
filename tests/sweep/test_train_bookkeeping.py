"""What train_grid does around the steps, against hand values (the recorder's part, checkpoints, timings and the
progress bar, is in test_recorder_bookkeeping.py): the model axis padded and sharded over devices, the final
evaluation's doubling rule at its edges, correlated feature sets trained as the hand-written loop of
test_train_options.py draws them, and the privileged and abs model kinds against a hand-written loop of their own.

Every run here is a tiny grid (n=5, m=2, 4 models as 2 data streams x 2 weight decays, 12 steps of 16):
a second or two each on the 2-core dev machine.
"""
from __future__ import annotations

import functools
import os
import subprocess
import sys
from types import SimpleNamespace

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from sweep.data import sample_features
from sweep.grid import build_grid
from sweep.train import data_key, eval_key, final_evaluation, model_key, stacked_hyper, train_grid
from tests.conftest import ROOT, flax_init, make_config
from tests.sweep import test_train_options as options
from tests.sweep.test_recorder_bookkeeping import TINY_EXEC, tiny


def test_models_are_padded_by_repeating_the_last_and_sharded_over_every_device():
    """shard_models on 1-4 (forced host) devices, in a fresh process: 5 models -> 5, 6, 6, 8 (the last one repeated)."""
    code = """
import jax, jax.numpy as jnp, numpy as np
from sweep.train import shard_models
devices = jax.devices()
assert len(devices) == 4, devices
tree = {"W": jnp.arange(30.0).reshape(5, 3, 2), "b": jnp.arange(5.0)}
expected = {1: [0, 1, 2, 3, 4], 2: [0, 1, 2, 3, 4, 4], 3: [0, 1, 2, 3, 4, 4], 4: [0, 1, 2, 3, 4, 4, 4, 4]}
for n, rows in expected.items():
    out = shard_models(tree, devices[:n])
    for name in tree:
        np.testing.assert_array_equal(np.asarray(out[name]), np.asarray(tree[name])[rows], err_msg=f"{n} {name}")
        assert len(out[name].sharding.device_set) == n, (n, name, out[name].sharding)
four = {"b": jnp.arange(4.0)}
np.testing.assert_array_equal(np.asarray(shard_models(four, devices[:2])["b"]), np.arange(4.0))  # divides: no padding
np.testing.assert_array_equal(np.asarray(shard_models(four, devices[:3])["b"]), [0, 1, 2, 3, 3, 3])
print("ok")
"""
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4", "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def _exec(**kwargs):
    return SimpleNamespace(exec=SimpleNamespace(**kwargs))


def _evaluate(losses, calls):
    def evaluate(params, stacked, first):
        calls.append(int(first))
        return losses[:, first:first + 2]  # eval_batches = 2 per call

    return evaluate


def test_final_evaluation_at_its_edges():
    """Per-batch losses chosen by hand (test_train.py::test_final_evaluation has the main cases): two batches that agree
    have a standard error of 0, a model with zero loss is never noisy, and the tolerance is relative to the loss."""
    steady = np.full((1, 64), 0.5)
    calls = []
    mean, se, count = final_evaluation(_evaluate(steady, calls), None, None,
                                       _exec(eval_batches=2, eval_rel_se=0.05, eval_max_batches=64), np.asarray)
    assert count.tolist() == [2] and calls == [0] and se.tolist() == [0.0] and mean.tolist() == [0.5]
    zero = np.zeros((1, 64))
    calls = []
    mean, se, count = final_evaluation(_evaluate(zero, calls), None, None,
                                       _exec(eval_batches=2, eval_rel_se=0.05, eval_max_batches=64), np.asarray)
    assert count.tolist() == [2] and calls == [0] and mean.tolist() == [0.0]  # se 0 <= 5% of 0
    # mean 4, batches 4 -+ 1.2: se(n) = 1.2 sqrt(n / (n - 1)) / sqrt(n) = 1.2 / sqrt(n - 1), first <= 0.05 * 4 = 0.2 at
    # n = 64 (n = 32: 0.2155); a tolerance of 0.05 / 4 instead would never be met
    noisy = 4.0 + np.tile([-1.2, 1.2], (1, 64))
    calls = []
    mean, se, count = final_evaluation(_evaluate(noisy, calls), None, None,
                                       _exec(eval_batches=2, eval_rel_se=0.05, eval_max_batches=128), np.asarray)
    assert count.tolist() == [64] and calls == list(range(0, 64, 2))
    assert mean.tolist() == [4.0] and se[0] == pytest.approx(1.2 / np.sqrt(63), rel=1e-12)


def test_correlated_sets_train_as_the_hand_loop_draws_them(monkeypatch):
    """data.correlation and data.set_size reach the trainer's batches: the trained model equals test_options.py's
    hand-written loop drawing correlated sets of 2 (the independent law, or sets of 1, would give other batches)."""
    option = dict(sparsity=[0.7], model={"n_features": 4}, data={"correlation": "correlated", "set_size": 2},
                  optim={"lr": 1e-2, "weight_decay": 0.1})
    cfg = make_config(**option, steps=options.STEPS, batch_size=options.BATCH,
                      exec={"log_every": options.LOG_EVERY, "eval_batches": options.EVAL_BATCHES,
                            "eval_max_batches": options.EVAL_BATCHES})
    grid = build_grid(cfg)
    trained = train_grid(cfg, grid)
    monkeypatch.setattr(options, "sample_features", functools.partial(sample_features, correlation="correlated", set_size=2))
    W, b, losses, final = options.hand_train(option, cfg, grid, 0)[:4]
    np.testing.assert_allclose(trained.W[0], W, atol=1e-5, rtol=0)
    np.testing.assert_allclose(trained.b[0], b, atol=1e-5, rtol=0)
    np.testing.assert_allclose(trained.history_loss[:, 0], losses.reshape(-1, options.LOG_EVERY).mean(axis=1), rtol=1e-5)
    np.testing.assert_allclose(trained.final_loss[0], final, rtol=1e-5)


def hand_forward(kind: str, p, x):
    """The README's models on a (batch, n) batch: privileged ReLU(ReLU(x W^T) W + b); abs ReLU(ReLU(x W1^T) W2^T + b).

    The ReLU's derivative at 0 is 0 (jnp.maximum's would be 1/2): with the hidden ReLU, an all-zero batch row gives
    pre-activations of exactly 0, and Adam's first step turns any non-zero gradient there into a full step of lr."""
    def relu(z):
        return jnp.where(z > 0, z, 0.0)

    out = relu(x @ p["W"].T) @ (p["W2"].T if kind == "abs" else p["W"]) + p["b"]
    return relu(out)


@pytest.mark.parametrize("kind, distribution", [("privileged", "uniform"), ("abs", "signed_uniform")])
def test_other_model_kinds_train_as_a_hand_written_loop(kind, distribution):
    """model.kind=privileged and abs (untied W2, target |x|, on U[-1, 1) features) against AdamW written out by hand,
    one model at a time; only the initial weights and the batches come from the code under test (as in test_options.py)."""
    steps, batch, log_every, eval_batches, lr, b1, b2, eps = 40, 64, 20, 2, 1e-2, 0.9, 0.999, 1e-8
    cfg = make_config(model={"kind": kind, "n_features": 4, "n_hidden": 2}, data={"distribution": distribution},
                      importance={"kind": "geometric", "decay": 0.8}, sparsity=[0.6], seed=[0, 1],
                      optim={"lr": lr, "weight_decay": 0.1}, steps=steps, batch_size=batch,
                      exec={"log_every": log_every, "eval_batches": eval_batches, "eval_max_batches": eval_batches})
    grid = build_grid(cfg)
    trained = train_grid(cfg, grid)
    assert ("W2" in trained.params) == (kind == "abs")
    n, importance = 4, jnp.asarray([0.8**i for i in range(4)], jnp.float32)

    def loss(p, x):
        target = jnp.abs(x) if kind == "abs" else x
        return jnp.mean(importance * (target - hand_forward(kind, p, x)) ** 2)

    @jax.jit
    def step(p, m, v, x, t):
        value, g = jax.value_and_grad(loss)(p, x)
        m = {k: b1 * m[k] + (1 - b1) * g[k] for k in p}
        v = {k: b2 * v[k] + (1 - b2) * g[k] ** 2 for k in p}
        new = {k: p[k] - lr * ((m[k] / (1 - b1**t)) / (jnp.sqrt(v[k] / (1 - b2**t)) + eps) + 0.1 * p[k]) for k in p}
        return new, m, v, value

    for i in range(len(grid)):
        density = jnp.full(n, float(grid.coords["density"].iloc[i]), jnp.float32)
        key = model_key(jnp.uint32(grid.seed[i]), jnp.uint32(grid.stream[i]))
        p = flax_init(jax.random.fold_in(key, 0), n, 2, untied=kind == "abs")
        m, v = {k: jnp.zeros_like(a) for k, a in p.items()}, {k: jnp.zeros_like(a) for k, a in p.items()}
        batches, losses = data_key(jnp.uint32(grid.seed[i])), []
        for s in range(steps):
            x = sample_features(jax.random.fold_in(jax.random.fold_in(batches, 1), s), density, batch, distribution)
            p, m, v, value = step(p, m, v, x, s + 1)
            losses.append(float(value))
        evaluation = eval_key()
        final = np.mean([float(loss(p, sample_features(jax.random.fold_in(evaluation, j), density, batch, distribution)))
                         for j in range(eval_batches)])
        np.testing.assert_allclose(trained.W[i], p["W"], atol=1e-5, rtol=0)
        np.testing.assert_allclose(trained.b[i], p["b"], atol=1e-5, rtol=0)
        if kind == "abs":
            np.testing.assert_allclose(trained.params["W2"][i], p["W2"], atol=1e-5, rtol=0)
        np.testing.assert_allclose(trained.history_loss[:, i], np.reshape(losses, (-1, log_every)).mean(axis=1), rtol=1e-5)
        np.testing.assert_allclose(trained.final_loss[i], final, rtol=1e-5)


def test_one_feature_models_sharing_a_stream_train_as_if_alone():
    """n = 1, two weight decays on one data stream (K = 2): each model ends as when trained alone (K = 1)."""
    cfg = make_config(model={"n_features": 1, "n_hidden": 1}, sparsity=[0.5], seed=[0],
                      optim={"lr": 3e-2, "weight_decay": [0.0, 0.5]}, steps=12, batch_size=16, exec=TINY_EXEC)
    grid = build_grid(cfg)
    assert grid.block_size() == 2
    fused = train_grid(cfg, grid)
    assert not np.allclose(fused.W[0], fused.W[1])
    for i in range(2):
        alone = train_grid(cfg, grid.select([i]))
        np.testing.assert_allclose(alone.W[0], fused.W[i], atol=1e-6, rtol=0)
        np.testing.assert_allclose(alone.b[0], fused.b[i], atol=1e-6, rtol=0)


def test_the_stack_is_streams_by_models_of_the_block_asked_for():
    """stacked_hyper(grid, block): (U streams, K models) with K = block, grid.block_size() by default; model i at
    (i // K, i % K). The tiny grid: seeds 0, 1 (2 streams) x weight decays 0, 0.1 (2 models of each stream)."""
    grid = build_grid(tiny())
    for block, (u, k) in ((None, (2, 2)), (2, (2, 2)), (1, (4, 1))):
        stacked = stacked_hyper(grid, block)
        assert stacked.hyper.weight_decay.shape == (u, k) and stacked.hyper.importance.shape == (u, k, 5)
        assert stacked.stream.density.shape == (u, 5)
        np.testing.assert_allclose(np.asarray(stacked.hyper.weight_decay).ravel(), [0.0, 0.1, 0.0, 0.1], atol=1e-7)
