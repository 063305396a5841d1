"""The SAE grid trains each SAE exactly as if alone, shares batches within a row, and resumes bitwise."""
import numpy as np
import pytest

from sweep import checkpoint
from sweep.config import ConfigError
from sweep.sae import train
from sweep.sae.config import SAEConfig, SyntheticConfig
from sweep.sae.source import synthetic

SMALL = dict(steps=60, batch_size=64, eval_batch=256, log_every=20, progress=False, lr=1e-2)


def sources():
    return synthetic(SyntheticConfig(d=4, n_features=6, mean_active=1.0, decay=0.9, seed=[0, 1]))


def pick(result, u, k):
    return {name: a[u, k] for name, a in result["params"].items()}


@pytest.mark.parametrize("arch, coeffs", [("l1", [1e-3, 1e-2, 1e-1]), ("topk", [1, 2, 3])])
def test_fused_grid_equals_each_sae_trained_alone(arch, coeffs):
    src, cfg = sources(), SAEConfig(arch=arch, **SMALL)
    fused = train.train_saes(src, cfg, 5, seeds=[0, 3], coeffs=coeffs)
    assert fused["params"]["W_dec"].shape == (4, 3, 4, 5)  # (sources x seeds, coefficients, d, L)
    for s in range(2):
        one = synthetic(SyntheticConfig(d=4, n_features=6, mean_active=1.0, decay=0.9, seed=[s]))
        for r, seed in enumerate([0, 3]):
            for k, coeff in enumerate(coeffs):
                alone = train.train_saes(one, cfg, 5, seeds=[seed], coeffs=[coeff])
                for name, a in pick(alone, 0, 0).items():
                    np.testing.assert_allclose(a, fused["params"][name][2 * s + r, k], atol=1e-5, err_msg=name)
                np.testing.assert_allclose(alone["mse"][0, 0], fused["mse"][2 * s + r, k], rtol=1e-4)


def test_saes_of_a_row_start_alike_and_other_seeds_differ():
    src, cfg = sources(), SAEConfig(**{**SMALL, "steps": 1})
    rows = train.stack(src, cfg, [0, 1], [1e-3, 1e-1])
    init, _, _ = train.compile_programs(src, cfg, 5)
    params, _ = init(rows)
    W = np.asarray(params["W_dec"])  # (4 rows, 2 coefficients, d, L)
    np.testing.assert_array_equal(W[:, 0], W[:, 1])
    assert not np.allclose(W[0, 0], W[1, 0]) and not np.allclose(W[0, 0], W[2, 0])


def test_a_stopped_grid_resumes_to_the_same_saes(tmp_path, monkeypatch):
    src, cfg = sources(), SAEConfig(**{**SMALL, "checkpoint_every": 20})
    whole = train.train_saes(src, cfg, 5, seeds=[0], coeffs=[1e-2, 1e-1])
    path = tmp_path / "checkpoint.npz"
    save = checkpoint.save

    def save_then_crash(*args, **kwargs):  # the process dies right after its checkpoint at step 40
        save(*args, **kwargs)
        if args[2] == 40:
            raise RuntimeError("killed")

    monkeypatch.setattr(checkpoint, "save", save_then_crash)
    with pytest.raises(RuntimeError):
        train.train_saes(src, cfg, 5, seeds=[0], coeffs=[1e-2, 1e-1], checkpoint_path=path)
    monkeypatch.setattr(checkpoint, "save", save)
    resumed = train.train_saes(src, cfg, 5, seeds=[0], coeffs=[1e-2, 1e-1], checkpoint_path=path)
    assert resumed["resumed_from_step"] == 40 and not path.exists()
    for name, a in whole["params"].items():
        np.testing.assert_array_equal(a, resumed["params"][name])
    np.testing.assert_array_equal(whole["loss"], resumed["loss"])


def test_a_stop_request_checkpoints_exits_143_and_resumes(tmp_path):
    src, cfg = sources(), SAEConfig(**{**SMALL, "checkpoint_every": 0})
    whole = train.train_saes(src, cfg, 5, seeds=[0], coeffs=[1e-2])
    path = tmp_path / "checkpoint.npz"
    checkpoint.STOP.set()
    try:
        with pytest.raises(SystemExit) as stopped:
            train.train_saes(src, cfg, 5, seeds=[0], coeffs=[1e-2], checkpoint_path=path)
    finally:
        checkpoint.STOP.clear()
    assert stopped.value.code == 143 and checkpoint.saved_step(path) == 20
    resumed = train.train_saes(src, cfg, 5, seeds=[0], coeffs=[1e-2], checkpoint_path=path)
    np.testing.assert_array_equal(whole["params"]["W_dec"], resumed["params"]["W_dec"])


@pytest.mark.parametrize("d, G, L, K, B, E", [(4, 6, 8, 3, 64, 256), (12, 40, 64, 2, 256, 2048)])
def test_memory_estimate_bounds_xla(d, G, L, K, B, E):
    """bytes_needed against XLA's own memory analysis (temp + arguments + outputs) of the compiled step scan and the
    evaluation: at least their sum, at most 2.5x (measured 1.36x-1.67x at toy to synthetic-experiment sizes)."""
    import jax
    import jax.numpy as jnp

    src = synthetic(SyntheticConfig(d=d, n_features=G, mean_active=2.0, seed=[0, 1]))
    cfg = SAEConfig(dict_size=L, l1=[0.01 * (i + 1) for i in range(K)], seed=[0, 1], batch_size=B, eval_batch=E)
    rows = train.stack(src, cfg, [0, 1], cfg.coeffs())
    init, run_steps, evaluate = train.compile_programs(src, cfg, L)
    state = jax.eval_shape(init, rows)
    xla = 0
    for analysis in (run_steps.lower(state, rows, jnp.arange(5)).compile().memory_analysis(),
                     evaluate.lower(state[0], rows).compile().memory_analysis()):
        xla += analysis.temp_size_in_bytes + analysis.argument_size_in_bytes + analysis.output_size_in_bytes
    assert xla <= train.bytes_needed(src, cfg, L) <= 2.5 * xla


def test_a_grid_that_does_not_fit_is_refused_before_training(monkeypatch):
    monkeypatch.setattr("sweep.memory.available_bytes", lambda: 10 * 2**20)
    cfg = SAEConfig(arch=["l1", "topk"], dict_size=[4, 8], k=[1, 2], seed=[0, 1], batch_size=64, eval_batch=256)
    train.check_fits(sources(), cfg)  # small: fits
    big = SAEConfig(arch=["l1", "topk"], dict_size=[4, 512], k=[1, 2], seed=[0, 1], batch_size=1024, eval_batch=256)
    says = r"^the SAE grid needs ~\d+ MB \(2 sources x 2 seeds x 1 coefficients, 512 latents.*arch=l1\) but 10 MB"
    with pytest.raises(ConfigError, match=says):
        train.check_fits(sources(), big)
