"""Chunk sizing: the per-model memory estimate bounds XLA's own analysis of the compiled step,
and chunks respect the memory budget, the CPU cache and the per-job overhead."""
import math

import jax
import jax.numpy as jnp
import pytest

from sweep import memory
from sweep.config import ConfigError
from sweep.grid import build_grid
from sweep.train import Trainer, compile_group, stacked_hyper
from tests.conftest import make_config


@pytest.mark.parametrize("n_features, n_hidden, batch_size, kind", [
    (5, 2, 1024, "relu"), (2, 1, 256, "relu"), (40, 10, 64, "relu"), (3, 6, 1024, "relu"),
    # a hidden ReLU keeps a (m, batch) activation: m > n is where counting n alone fell 2.7x short
    (3, 6, 1024, "privileged"), (2, 8, 512, "abs"), (40, 10, 64, "abs"), (10, 5, 1024, "privileged"),
])
def test_estimate_bounds_xla_memory_analysis(n_features, n_hidden, batch_size, kind):
    models = 8
    data = {"distribution": "signed_uniform"} if kind == "abs" else {}
    cfg = make_config(model={"n_features": n_features, "n_hidden": n_hidden, "kind": kind}, data=data,
                      batch_size=batch_size, seed=list(range(models)), sparsity=0.5)
    init, run_steps, _ = compile_group(Trainer(cfg))
    hyper = stacked_hyper(build_grid(cfg))
    state = jax.eval_shape(init, hyper)
    analysis = run_steps.lower(state, hyper, jnp.arange(10)).compile().memory_analysis()
    if analysis is None:
        pytest.skip("this backend gives no memory analysis")
    xla = (analysis.temp_size_in_bytes + analysis.argument_size_in_bytes + analysis.output_size_in_bytes) / models
    estimate = memory.bytes_per_model(cfg)
    assert xla <= estimate <= 2 * xla


def sized(n_features: int, n_hidden: int, batch_size: int = 1024, steps: int = 100_000):
    return make_config(model={"n_features": n_features, "n_hidden": n_hidden}, batch_size=batch_size, steps=steps)


def test_chunk_size_limits():
    per_model = memory.bytes_per_model(sized(5, 2))
    budget, cache = 1000 * per_model, 100 * per_model
    # long runs: the cache decides; a memory budget below that wins; an explicit cap wins over both
    assert memory.models_per_chunk(sized(5, 2, 1024, 100_000), budget, cache) == 100
    assert memory.models_per_chunk(sized(5, 2, 1024, 100_000), 40 * per_model, cache) == 40
    assert memory.models_per_chunk(sized(5, 2, 1024, 100_000), budget, cache, max_models=7) == 7
    # short runs: a chunk must train long enough to pay for its job's overhead
    short = memory.models_per_chunk(sized(5, 2, 1024, 100), 10**6 * per_model, cache)
    train_seconds = short * 100 * 1024 * 5 / memory.CPU_ENTRIES_PER_S
    assert short > 100 and train_seconds >= memory.JOB_OVERHEAD_S / memory.MAX_OVERHEAD_FRACTION
    assert memory.models_per_chunk(sized(5, 2, 1024, 1), budget, cache) == 1000  # capped by memory
    # no cache limit (GPU): memory only
    assert memory.models_per_chunk(sized(5, 2, 1024, 100_000), budget, None) == 1000
    with pytest.raises(ConfigError, match="memory_gb"):
        memory.models_per_chunk(sized(5, 2, 1024, 100), per_model - 1, cache)


def test_machine_defaults_are_sane():
    assert memory.default_budget_bytes() > 2**28
    assert memory.cpu_cache_bytes() >= 2**20


def test_a_grid_that_cannot_fit_is_refused_before_compiling_with_the_numbers(tmp_path):
    from tests.conftest import run_cli

    # 48 models (8 seeds x 6 default sparsities) x 5 batch tensors of 4e6 x 1000 floats: ~3.6 TB
    result = run_cli(["model.n_features=1000", "batch_size=4000000", "seed=[0,1,2,3,4,5,6,7]", "steps=1"], cwd=tmp_path)
    assert result.returncode == 2
    (line,) = [line for line in result.stderr.splitlines() if line.strip()]
    assert line.startswith("config error: the grid needs ~") and "48 models x" in line and "GB is available" in line
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("n_features, n_hidden, kind", [(2, 1, "relu"), (3, 2, "relu"), (3, 6, "privileged")])
def test_estimate_bounds_xla_memory_analysis_when_blocks_share_batches(n_features, n_hidden, kind):
    cfg = make_config(model={"n_features": n_features, "n_hidden": n_hidden, "kind": kind}, density=[1.0, 0.1],
                      importance={"kind": "extra", "relative": [0.1 * 2**i for i in range(8)]})
    grid = build_grid(cfg)
    assert grid.block_size() == 8
    init, run_steps, _ = compile_group(Trainer(cfg))
    hyper = stacked_hyper(grid)
    analysis = run_steps.lower(jax.eval_shape(init, hyper), hyper, jnp.arange(10)).compile().memory_analysis()
    if analysis is None:
        pytest.skip("this backend gives no memory analysis")
    xla = (analysis.temp_size_in_bytes + analysis.argument_size_in_bytes + analysis.output_size_in_bytes) / len(grid)
    estimate = memory.bytes_per_model(cfg, block=8)
    assert xla <= estimate <= 2 * xla


def test_chunks_are_whole_blocks():
    per_model = memory.bytes_per_model(sized(3, 2), 40)
    # shared stacks fill half the cache, in whole blocks of 40 where at least one fits
    assert memory.models_per_chunk(sized(3, 2, 1024, 100_000), 10**6 * per_model, 2000 * per_model, block=40) == 1000
    assert memory.models_per_chunk(sized(3, 2, 1024, 100_000), 10**6 * per_model, 1998 * per_model, block=40) == 960
    assert memory.models_per_chunk(sized(3, 2, 1024, 100_000), 10**6 * per_model, 60 * per_model, block=40) == 30


def test_memory(monkeypatch):
    from sweep.config import build

    def cfg(n, m, batch_size, steps=10_000):
        return build({"model": {"n_features": n, "n_hidden": m}, "batch_size": batch_size, "steps": steps})

    # 4 bytes x (3.5 + 1.5/block batch tensors + 8 parameter copies) + 1 kB (sweep/memory.py's bound)
    assert memory.bytes_per_model(cfg(5, 2, 1024)) == 4 * (5 * 5120 + 8 * 15) + 1024
    assert memory.bytes_per_model(cfg(3, 2, 100), block=4) == 4 * (300 * 31 // 8 + 8 * 9) + 1024
    per = memory.bytes_per_model(cfg(5, 2, 1024))
    monkeypatch.setattr(memory, "available_bytes", lambda: 10 * per)
    memory.check_fits(cfg(5, 2, 1024), 10)  # exactly fits
    with pytest.raises(ConfigError, match="11 models"):
        memory.check_fits(cfg(5, 2, 1024), 11)
    assert memory.models_per_chunk(cfg(5, 2, 1024, 10**6), per, None) == 1  # the budget holds exactly one
    # a short run: the cache would allow 10, the overhead rule asks for ceil(2.5 / 0.1 x 1.5e8 / (1000 x 5120)) = 733
    assert memory.models_per_chunk(cfg(5, 2, 1024, 1000), 10**6 * per, 10 * per) == math.ceil(25 * 1.5e8 / (1000 * 5120))
    block, shared = memory.bytes_per_model(cfg(2, 1, 1024), 8), cfg(2, 1, 1024, 10**6)
    assert memory.models_per_chunk(shared, 10**6 * block, 100 * block, block=8) == 48  # half the cache: 50 -> 6 blocks
    assert memory.models_per_chunk(shared, 10**6 * block, 10 * block, block=8) == 5  # less than a block
