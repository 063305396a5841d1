"""Where a training step's time goes: `python -m benchmarks.profile [--case 20x5x100] [--steps 300]`.

Times, on the same stack as `python -m sweep.bench` (same case syntax, sharded over the host devices),
scans of `--steps` steps of:

- `step`: the trainer's whole step (the program `python -m sweep.run` runs);
- `batches`: only drawing the batches (summed, so that XLA cannot drop them: one extra pass), each stream its own
  (the cost that a stack of one seed's densities shares since issue 25: sweep/train.py `Draws`);
- `model + AdamW`: the model's forward and backward pass and the AdamW update on a fixed batch per stream;
- `AdamW`: only the optimizer update, on made-up gradients;
- `matmul floor`: only the five matrix products a step needs (h = W x, W^T h, and the three of the
  gradient), the arithmetic no implementation can skip; its GFLOP/s is the machine's rate at this shape.

Each is given as wall ms per step, CPU ms per step per device (process CPU time / devices: what the
machine's cores did, less sensitive than wall time to other work on a shared machine), and model-steps/s
from the wall time. Each part is timed alone, so the parts need not add up to the step.
"""
from __future__ import annotations

import argparse
import time

from benchmarks.bench import case_config


def _time(fn, repeats: int) -> tuple[float, float]:
    """(wall s, CPU s) of the fastest of `repeats` calls after a warm-up."""
    import jax

    jax.block_until_ready(fn())
    best = (float("inf"), float("inf"))
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        jax.block_until_ready(fn())
        best = min(best, (time.perf_counter() - wall, time.process_time() - cpu))
    return best


def profile(case: str, steps: int, repeats: int) -> list[tuple[str, float, float, float | None]]:
    import jax
    import jax.numpy as jnp
    import optax

    from sweep.config import build
    from sweep.grid import build_grid
    from sweep.train import Trainer, compile_group, place, shard_models, stacked_hyper

    cfg = build(case_config(case, steps, 1024, "fast"))
    trainer, grid = Trainer(cfg), build_grid(cfg)
    n, m, batch = cfg.model.n_features, cfg.model.n_hidden, cfg.batch_size
    stacked = place(stacked_hyper(grid, devices=jax.device_count()), jax.devices())
    init, run_steps, _ = compile_group(trainer)
    state, ids = init(stacked), jnp.arange(steps)
    per_stream = lambda f, *in_axes: jax.vmap(f, in_axes=in_axes)  # noqa: E731

    def batch_of(stream, step):
        return trainer.batch(jax.random.fold_in(jax.random.fold_in(stream.key, 1), step), stream)

    @jax.jit
    def batches(stacked):
        return jax.lax.scan(lambda c, s: (c + per_stream(batch_of, 0, None)(stacked.stream, s).sum(), None), 0.0, ids)[0]

    fixed = jax.jit(per_stream(batch_of, 0, None))(stacked.stream, 0)  # (U, n, batch)

    @jax.jit
    def model_and_adamw(state, stacked, x):
        return jax.lax.scan(lambda st, _: per_stream(trainer.block_step, 0, 0, 0)(st, stacked.hyper, x), state, ids)[1]

    @jax.jit
    def adamw(state, stacked):
        def one(st, hyper):
            grads = jax.tree.map(lambda p: 1e-3 * p, st.params)
            updates, opt_state = trainer.optimizer(hyper).update(grads, st.opt_state, st.params)
            return st._replace(params=optax.apply_updates(st.params, updates), opt_state=opt_state), 0.0
        return jax.lax.scan(lambda st, _: jax.vmap(jax.vmap(one))(st, stacked.hyper), state, ids)[0]

    @jax.jit
    def floor(W, x):  # per model (G, m, n), (G, n, batch)
        def one(W, x):  # the products of a step: forward h = W x, W^T h; backward h g^T, W g, (W g) x^T (g ~ x)
            h = W @ x
            out = W.T @ h
            return h @ out.T + (W @ out) @ x.T
        return jax.lax.scan(lambda W, _: (W + 1e-9 * jax.vmap(one)(W, x), None), W, ids)[0]

    k = len(grid) // fixed.shape[0]  # models per stream
    W_models = state.params["W"].reshape(len(grid), m, n)
    x_models = shard_models(jnp.repeat(fixed, k, axis=0), jax.devices())
    timed = {
        "step": lambda: run_steps(state, stacked, ids)[1],
        "batches": lambda: batches(stacked),
        "model + AdamW": lambda: model_and_adamw(state, stacked, fixed),
        "AdamW": lambda: adamw(state, stacked),
        "matmul floor": lambda: floor(W_models, x_models),
    }
    flops = 2 * batch * (5 * m * n)  # the five products, per model-step
    devices = jax.device_count()
    rows = []
    for name, fn in timed.items():
        wall, cpu = _time(fn, repeats)
        rate = len(grid) * steps / wall
        rows.append((name, wall / steps, cpu / devices / steps, rate, rate * flops / 1e9 if name == "matmul floor" else None))
    return rows


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile", description=__doc__.splitlines()[0])
    parser.add_argument("--case", default="20x5x100", help="as in python -m sweep.bench (default %(default)s)")
    parser.add_argument("--steps", type=int, default=300, help="steps per timed scan")
    parser.add_argument("--repeats", type=int, default=3, help="timed scans per part; the fastest counts")
    args = parser.parse_args(argv)
    import jax

    print(f"case {args.case}, {args.steps} steps, {jax.device_count()} devices, fastest of {args.repeats}")
    header = f"{'part':>14} {'wall ms/step':>12} {'CPU ms/step/device':>18} {'model-steps/s':>14} {'GFLOP/s':>8}"
    print(header)
    print("-" * len(header))
    for name, wall, cpu, rate, gflops in profile(args.case, args.steps, args.repeats):
        print(f"{name:>14} {wall * 1e3:>12.3f} {cpu * 1e3:>18.3f} {rate:>14,.0f} {'' if gflops is None else f'{gflops:.0f}':>8}")


if __name__ == "__main__":
    main()
