"""tms-sweep: fused, vmapped sweeps of the toy models of superposition.

XLA runs one program on about one CPU core, so on CPU the model axis is split over one host
device per core (measured: 1.4x model-steps/s on 2 cores). This must happen before JAX starts;
set XLA_FLAGS=--xla_force_host_platform_device_count=N yourself to choose otherwise. Where JAX
will use an accelerator (JAX_PLATFORMS names one, or a GPU/TPU plugin is installed), no host
flag is set: jobs there shard over the local accelerators (jax.devices()) and nothing else.
"""
import importlib.metadata
import importlib.util
import os

from sweep.timing import cache_dir


def _accelerator_expected() -> bool:
    """Whether JAX will pick an accelerator, decided without importing JAX (that would start it)."""
    platforms = {p.strip().lower() for p in os.environ.get("JAX_PLATFORMS", "").split(",") if p.strip()}
    if platforms:
        return not platforms <= {"cpu"}
    # GPU/TPU support comes as plugins: jax-cuda*/rocm install jax_plugins.xla_* (or entry points), TPUs libtpu
    return (importlib.util.find_spec("jax_plugins") is not None or importlib.util.find_spec("libtpu") is not None
            or bool(importlib.metadata.entry_points(group="jax_plugins")))


if "xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", "") and not _accelerator_expected():
    _cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={_cores}".strip()

# JAX's persistent compilation cache, on by default: the same program (same shapes and code) compiled by
# an earlier process is read back instead of compiled again (measured: a 3-model n=20 run's compile
# 7.8 s -> 2.2 s; docs/speed.md). Set JAX_COMPILATION_CACHE_DIR yourself to move it, or
# TMS_SWEEP_COMPILE_CACHE=0 to turn it off.
if os.environ.get("TMS_SWEEP_COMPILE_CACHE", "1") != "0":
    os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", os.path.join(cache_dir(), "jax"))
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")  # cache every program, not only slow ones
