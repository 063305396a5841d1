"""tms-sweep: fused, vmapped sweeps of the toy models of superposition.

XLA runs one program on about one CPU core, so on CPU the model axis is split over one host
device per core (measured: 1.4x model-steps/s on 2 cores). This must happen before JAX starts;
set XLA_FLAGS=--xla_force_host_platform_device_count=N yourself to choose otherwise.
"""
import os

if "xla_force_host_platform_device_count" not in os.environ.get("XLA_FLAGS", ""):
    _cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={_cores}".strip()
