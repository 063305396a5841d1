"""Every local device is used: the model axis is sharded over 4 (forced host) devices, and each
model's weights equal those of the same grid trained fused on one device."""
import json

import jax
import numpy as np

import analysis
from sweep.grid import build_grid
from sweep.results import load_weights
from sweep.train import train_grid
from tests.conftest import ROOT, make_config, run_cli

FOUR_DEVICES = {"XLA_FLAGS": "--xla_force_host_platform_device_count=4", "JAX_PLATFORMS": "cpu"}


def test_sharded_chunked_multirun_equals_one_device(tmp_path):
    # 3 sparsities x 2 seeds = 6 models in 2 chunks of 3: each chunk is padded to 4 models for 4 devices.
    args = ["-m", "sparsity=0,0.7,0.9", "seed=0,1", "steps=200", "exec.log_every=100", "batch_size=64",
            "exec.plots=false", "exec.progress=false", "exec.eval_max_batches=32", "hydra.sweeper.max_models_per_chunk=3",
            f"hydra.sweep.dir={tmp_path}"]
    out = run_cli(args, cwd=ROOT, env_extra=FOUR_DEVICES)
    assert out.returncode == 0, out.stderr
    table = analysis.load(tmp_path).drop_duplicates(["run", "model_id"])
    assert table["run"].nunique() == 2 and len(table) == 6
    for run in table["run"].unique():
        assert json.loads((tmp_path / run / "summary.json").read_text())["devices"] == 4

    cfg = make_config(sparsity=[0.0, 0.7, 0.9], seed=[0, 1], steps=200, batch_size=64,
                      exec={"log_every": 100, "eval_max_batches": 32})
    grid = build_grid(cfg)
    fused = train_grid(cfg, grid, devices=jax.devices()[:1])
    index = {(s, seed): i for i, (s, seed) in enumerate(zip(grid.coords["sparsity"], grid.coords["seed"]))}
    for row in table.itertuples():
        i = index[(row.sparsity, row.seed)]
        W = load_weights(tmp_path / row.run)["W"][row.model_id]
        np.testing.assert_allclose(W, fused.W[i], atol=1e-5)
        np.testing.assert_allclose(row.loss, fused.final_loss[i], atol=1e-5)
