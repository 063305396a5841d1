"""data.train_size (sweep/trainset.py): each model trains on minibatches of its own T samples, drawn once; fused ==
alone across T; a resumed run ends bitwise; the train loss is the loss on exactly those T samples."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import sweep.checkpoint
from sweep import trainset
from sweep.config import ConfigError
from sweep.grid import build_grid
from sweep.train import Trainer, stacked_hyper, train_grid
from tests.conftest import make_config

# the k-gon law (docs/experiments/kgons.md): one active feature per sample, value U[0, 1]
LAW = dict(model={"n_features": 4, "n_hidden": 2}, sparsity=0.0, data={"correlation": "anticorrelated", "set_size": 4},
           importance={"kind": "constant"}, batch_size=16, steps=30, exec={"log_every": 10, "eval_batches": 2,
                                                                             "eval_max_batches": 2})


def law(train_size, **more):
    return make_config(**{**LAW, "data": {**LAW["data"], "train_size": train_size}, **more})


@pytest.mark.parametrize("rng", ["fast", "threefry"])
def test_models_fused_across_train_sizes_train_as_if_alone(rng):
    """Sizes 5, 16 (one whole batch), 37 (padded to 37 inside a set of 3 batches) and two seeds in one program; each
    alone (its set padded to nothing) ends bitwise equal: weights, test loss and train loss."""
    data = {**LAW["data"], "rng": rng, "train_size": [5, 16, 37]}
    cfg = make_config(**{**LAW, "data": data, "seed": [0, 1]})
    grid = build_grid(cfg)
    fused = train_grid(cfg, grid)
    assert sorted(set(grid.train_size.tolist())) == [5, 16, 37] and len(grid) == 6
    for i in range(len(grid)):
        alone_cfg = make_config(**{**LAW, "data": {**data, "train_size": int(grid.train_size[i])},
                                   "seed": int(grid.seed[i])})
        alone = train_grid(alone_cfg, build_grid(alone_cfg))
        np.testing.assert_array_equal(alone.W[0], fused.W[i])
        # the test loss: fresh batches drawn once for every stream of the job (sweep/train.py eval_losses), whose
        # float32 sums XLA vectorises by the job's width: equal to rounding (1 ulp seen), as in test_train_draws
        np.testing.assert_allclose(alone.final_loss[0], fused.final_loss[i], rtol=1e-6)
        np.testing.assert_array_equal(alone.train_loss[0], fused.train_loss[i])


def test_minibatches_are_drawn_from_the_first_T_samples_of_the_set_only():
    """Over 400 steps every minibatch column is one of the stream's first T = 7 samples (never the padding up to
    train_max = 40), each of the 7 is drawn, and as often as uniform sampling with replacement allows."""
    cfg = law([7, 40])
    grid = build_grid(cfg)
    trainer = Trainer(cfg, 40)
    stream = jax.tree.map(lambda a: a[0], stacked_hyper(grid, 1).stream)
    assert int(stream.train_size) == 7
    train_x = trainset.training_set(trainer, stream)
    assert train_x.shape == (4, 40)
    # the set's first T samples do not depend on the padding: the same stream padded to 7 only
    np.testing.assert_array_equal(trainset.training_set(Trainer(cfg, 7), stream), train_x[:, :7])
    counts = np.zeros(40, int)
    for step in range(400):
        x_t = np.asarray(trainset.minibatch(trainer, jax.random.PRNGKey(step), stream, train_x))
        match = (x_t[:, :, None] == np.asarray(train_x)[:, None, :]).all(axis=0)  # (batch, 40)
        assert match.any(axis=1).all()
        np.add.at(counts, match.argmax(axis=1), 1)
    assert counts[7:].sum() == 0 and (counts[:7] > 0).all()
    expected = 400 * 16 / 7
    assert np.abs(counts[:7] - expected).max() < 5 * np.sqrt(expected)  # binomial sd ~ 28


def test_a_small_training_set_is_overfit_and_its_train_loss_is_the_loss_on_those_samples():
    """T = 4 for 1,500 steps at lr 0.05: the train loss falls far below the test loss on fresh samples (a run that
    drew fresh batches would have them equal); the stored train loss is the model's loss on its 4 samples by hand."""
    cfg = law([4, 5000], steps=1500, optim={"lr": 0.05, "weight_decay": 0.0})
    grid = build_grid(cfg)
    result = train_grid(cfg, grid)
    assert result.train_loss[0] < 0.3 * result.final_loss[0]
    assert result.train_loss[1] == pytest.approx(result.final_loss[1], rel=0.2)
    stream = jax.tree.map(lambda a: a[0], stacked_hyper(grid, 1).stream)
    x = np.asarray(trainset.training_set(Trainer(cfg, 4), stream)).T  # (4, n)
    W, b = result.W[0], result.b[0]
    by_hand = np.mean((x - np.maximum(x @ W.T @ W + b, 0)) ** 2)
    assert result.train_loss[0] == pytest.approx(by_hand, rel=1e-5)


def test_an_interrupted_run_on_training_sets_resumes_bitwise(tmp_path, monkeypatch):
    cfg = law([5, 37], seed=[0, 1], exec={**LAW["exec"], "checkpoint_every": 10})
    grid = build_grid(cfg)
    whole = train_grid(cfg, grid)
    real = sweep.checkpoint.save

    def save_then_die(*args, **kwargs):
        real(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(sweep.checkpoint, "save", save_then_die)
    with pytest.raises(KeyboardInterrupt):
        train_grid(cfg, grid, checkpoint_path=tmp_path / "c.npz", fingerprint="t")
    monkeypatch.undo()
    resumed = train_grid(cfg, grid, checkpoint_path=tmp_path / "c.npz", fingerprint="t")
    assert resumed.resumed_from_step == 10
    for name in ("W", "b", "final_loss", "train_loss"):
        np.testing.assert_array_equal(getattr(resumed, name), getattr(whole, name), err_msg=name)


@pytest.mark.parametrize("value, message", [
    (-1, "data.train_size=-1 must be an integer >= 0"),
    (2.5, "data.train_size=2.5 must be an integer >= 0"),
    ([0, 8], "data.train_size=[0, 8] mixes 0 (a fresh batch every step) with finite sets"),
    (2**24 + 1, "data.train_size=16777217 is outside the allowed range [0, 16777216]"),
])
def test_a_bad_train_size_is_one_line_naming_the_key(value, message):
    with pytest.raises(ConfigError) as error:
        law(value)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_without_a_training_set_nothing_changes():
    """train_size = 0 (the default) keeps the earlier data streams (no T in their hash) and stores no train loss."""
    cfg, fresh = law(0), make_config(**{**LAW, "data": dict(LAW["data"])})
    assert build_grid(cfg).data_stream.tolist() == build_grid(fresh).data_stream.tolist()
    assert train_grid(cfg, build_grid(cfg)).train_loss is None
    assert jnp.all(build_grid(law(8)).data_stream != build_grid(cfg).data_stream)
