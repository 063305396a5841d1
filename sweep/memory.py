"""How many models one job should train: memory per model, the budget, and the chunk size.

A fused group is split into chunks (one Hydra job each) by two limits:

- memory: every chunk must fit the budget (`hydra.sweeper.memory_gb`; by default a quarter of
  this machine's RAM, or half of its GPUs' memory);
- throughput: on CPU, a step's batch tensors of the whole stack should stay in the last-level
  cache. Measured on a 2-core EPYC (32 MiB L3), n=5 m=2 batch 1024, steady-state model-steps/s:
  64 models 30k, 256 models 33k (working set ~26 MB), 1,024 models 22k, 4,096 models 24k,
  16,384 models 17k. So a chunk is sized to fill the cache, but never so small that the fixed
  cost of a job (compiling, writing results: ~2.5 s here) exceeds a tenth of its training time.
  GPUs have no such cliff: there only the memory budget splits a group.
"""
from __future__ import annotations

import glob
import math
import os
import shutil
import subprocess

from sweep.config import Config, ConfigError, as_list
from sweep.kinds import KINDS

# the functions mutation testing plants bugs in (tools/mutate.py; the rest is plumbing or messages)
MUTATE_ONLY = ["bytes_per_model", "models_per_chunk", "check_fits"]

BYTES = 4  # float32 / uint32
JOB_OVERHEAD_S = 2.5  # compile init/steps/eval + write results, per job, on CPU
CPU_ENTRIES_PER_S = 1.5e8  # batch entries (batch_size x n_features) per second: ~30k model-steps/s at n=5, B=1024
MAX_OVERHEAD_FRACTION = 0.1
DEFAULT_CACHE_BYTES = 32 * 2**20


def bytes_per_model(cfg: Config, block: int = 1) -> int:
    """Peak bytes one model of `cfg` adds to a training step (the batch tensors dominate), `block` models sharing
    each batch.

    XLA's own memory analysis of the compiled step (temp + arguments + outputs, per model) is
    ~3.5-4.5 batch tensors for n=2..100 when every model draws its own batch, ~3 when blocks of
    `block` models share one (sweep.train). This bound counts 3.5 + 1.5/block batch tensors and 8
    copies of the parameters (params, grads, two Adam moments, updates): 1.1x to 1.5x XLA's figure.
    A batch tensor is the kind's `batch_width` rows wide (sweep/kinds.py): with a hidden ReLU, which keeps a
    (hidden, batch) activation for the backward pass, n_features + n_hidden: XLA's figure is 2.7-4.8 such tensors
    (8 models of each kind at (n, m) = (3, 6), (10, 5), (100, 40), (5, 2), (2, 8), (40, 10); XLA's memory_analysis
    as in tests/sweep/test_memory.py, 2026-12-01, the 2-core dev CPU), where counting n alone fell up to 2.7x short for
    m > n. The parameters are counted as m n + n for every kind (an untied kind's W2 is left out, as it always was).
    With data.train_size, each stream also holds its training set, n x (the largest T) entries (sweep/trainset.py).
    """
    n_features, n_hidden = cfg.model.n_features, cfg.model.n_hidden
    batch = cfg.batch_size * KINDS[cfg.model.kind].batch_width(n_features, n_hidden)
    params = n_hidden * n_features + n_features
    train_set = n_features * max(as_list(cfg.data.train_size)) // block
    return BYTES * (batch * (7 * block + 3) // (2 * block) + 8 * params + train_set) + 1024


def gpu_memory_bytes() -> list[int]:
    """Total memory of each visible NVIDIA GPU, without initialising JAX (it would grab the GPU)."""
    if os.environ.get("JAX_PLATFORMS", "").strip().lower() == "cpu" or shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    sizes = [int(float(line)) * 2**20 for line in out.split() if line.strip()]
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None and all(v.strip().isdigit() for v in visible.split(",") if v.strip()):
        sizes = [sizes[int(v)] for v in visible.split(",") if v.strip() and int(v) < len(sizes)]
    return sizes


def physical_memory_bytes() -> int:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def cpu_cache_bytes() -> int:
    """Size of the largest CPU cache (the shared L3 on most machines)."""
    sizes = []
    for path in glob.glob("/sys/devices/system/cpu/cpu0/cache/index*/size"):
        text = open(path).read().strip().upper()
        scale = {"K": 2**10, "M": 2**20, "G": 2**30}.get(text[-1:], 1)
        try:
            sizes.append(int(text.rstrip("KMG")) * scale)
        except ValueError:
            continue
    return max(sizes, default=DEFAULT_CACHE_BYTES)


def default_budget_bytes() -> int:
    """Per-job memory for the model stack: half the GPUs' memory (JAX takes 75%), else a quarter of RAM."""
    gpus = gpu_memory_bytes()
    return sum(gpus) // 2 if gpus else physical_memory_bytes() // 4


def available_bytes() -> int:
    """What one job can use at most: 3/4 of the GPUs' memory (JAX preallocates 75%), else 4/5 of RAM."""
    gpus = gpu_memory_bytes()
    return sum(gpus) * 3 // 4 if gpus else physical_memory_bytes() * 4 // 5


def check_fits(cfg: Config, n_models: int, block: int = 1) -> None:
    """Refuse, before compiling, a job of `n_models` models of `cfg` whose stack cannot fit in memory."""
    per_model = bytes_per_model(cfg, block)
    need, have = n_models * per_model, available_bytes()
    if need > have:
        raise ConfigError(
            f"the grid needs ~{need / 2**30:,.1f} GB ({n_models} models x {per_model / 2**20:,.1f} MB at "
            f"n_features={cfg.model.n_features}, batch_size={cfg.batch_size}) but {have / 2**30:,.1f} GB is available; "
            f"run it with -m (the fused sweeper splits it into chunks that fit) or lower batch_size")


def default_cache_bytes() -> int | None:
    """The stack size that keeps CPU throughput high; None on GPU (no cache cliff, bigger is better)."""
    return None if gpu_memory_bytes() else cpu_cache_bytes()


def models_per_chunk(cfg: Config, budget_bytes: int, cache_bytes: int | None, max_models: int | None = None,
                     block: int = 1) -> int:
    """The most models of `cfg` one job should train, `block` models sharing each batch.

    The memory budget is a hard limit. Under it, a CPU chunk is the larger of the stack that
    fills the cache and the stack whose training time is 1/MAX_OVERHEAD_FRACTION job overheads.
    When it holds at least one block of models sharing a data stream, it is rounded down to whole
    blocks, so that chunks keep sharing.
    """
    per_model = bytes_per_model(cfg, block)
    if per_model > budget_bytes:
        raise ConfigError(f"one model needs {per_model / 2**30:.3g} GB, more than the memory budget "
                         f"{budget_bytes / 2**30:.3g} GB (hydra.sweeper.memory_gb)")
    size = budget_bytes // per_model
    if cache_bytes is not None:
        # Stacks whose models share batches run fastest at about half the cache (measured, 2-core EPYC,
        # 32 MiB L3, phase grids, model-steps/s by models per program: n=3, m=2: 200 560k, 400 633k,
        # 800 456k, 1,200 382k; n=2, m=1: 400 1.39M, 800 1.13M, 1,200 0.67M); others at the whole cache.
        in_cache = (cache_bytes if block == 1 else cache_bytes // 2) // per_model
        amortised = math.ceil(JOB_OVERHEAD_S / MAX_OVERHEAD_FRACTION * CPU_ENTRIES_PER_S
                              / (cfg.steps * cfg.batch_size * cfg.model.n_features))
        size = min(size, max(in_cache, amortised, 1))
    if max_models is not None:
        size = min(size, max_models)
    if size >= block:
        size = size // block * block
    return max(int(size), 1)
