"""Where a benchmark ran: the CPU model, its cores, the JAX device, and the machine's measured matmul peak.

    python -m benchmarks.machine          # prints the line every benchmark starts with

Numbers from different machines are read side by side through `fraction_of_peak`: a model-step's arithmetic
(the five products of a tied model's step: h = W x, W^T h, and the three of the gradient; `step_flops`) times
model-steps/s, over the GFLOP/s of a 2048 x 2048 float32 matmul measured on the same machine, in the same
process layout (one matmul per JAX device, side by side, as the trainer shards its models).
"""
from __future__ import annotations

import os
import platform
import time

import sweep  # noqa: F401 (first: one host device per core, as in a run)

PEAK_SIZE = 2048


def cpu_model() -> str:
    """'model name' of /proc/cpuinfo (Linux), else platform.processor(); with the CPU family/model numbers
    where the name is generic (a VM's 'Intel(R) Xeon(R) Processor')."""
    try:
        fields = {}
        for line in open("/proc/cpuinfo"):
            key, _, value = line.partition(":")
            fields.setdefault(key.strip(), value.strip())
        name = fields.get("model name", "")
        if "avx512f" in fields.get("flags", "").split():
            name += ", AVX-512"
        elif "avx2" in fields.get("flags", "").split():
            name += ", AVX2"
        return f"{name} (family {fields.get('cpu family', '?')} model {fields.get('model', '?')})"
    except OSError:
        return platform.processor() or platform.machine()


def cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def device() -> str:
    import jax

    first = jax.devices()[0]
    return f"{first.platform} ({jax.device_count()} x {first.device_kind})"


def matmul_peak(size: int = PEAK_SIZE, repeats: int = 5) -> float:
    """GFLOP/s of size x size float32 matmuls, one per JAX device side by side (sharded), fastest of `repeats`."""
    import jax
    import jax.numpy as jnp

    from sweep.train import shard_models

    devices = jax.devices()
    a = shard_models(jax.random.normal(jax.random.PRNGKey(0), (len(devices), size, size)), devices)
    product = jax.jit(lambda a: jnp.einsum("dij,djk->dik", a, a))
    jax.block_until_ready(product(a))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(product(a))
        best = min(best, time.perf_counter() - start)
    return len(devices) * 2 * size**3 / best / 1e9


def step_flops(n: int, m: int, batch: int) -> int:
    """The arithmetic of one model-step: five (m x n) by (n x batch)-sized products, 2 flops per multiply-add."""
    return 2 * batch * 5 * m * n


def fraction_of_peak(model_steps_per_s: float, n: int, m: int, batch: int, peak_gflops: float) -> float:
    return model_steps_per_s * step_flops(n, m, batch) / (peak_gflops * 1e9)


def load() -> str:
    return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg()) if hasattr(os, "getloadavg") else "load ?"


def describe(peak_gflops: float | None = None) -> str:
    """One line: CPU model, cores, JAX device, the measured peak (measured now unless given), the load average."""
    peak = matmul_peak() if peak_gflops is None else peak_gflops
    return (f"CPU {cpu_model()}, {cores()} cores; JAX {device()}; {PEAK_SIZE}x{PEAK_SIZE} f32 matmul peak "
            f"{peak:.0f} GFLOP/s (measured now); {load()}")


if __name__ == "__main__":
    print(describe())
