"""The SAE grid: S sources x R SAE seeds x K coefficients, one compiled program per dictionary size.

The stack is (U = S x R rows, K coefficients): each row draws one activation batch per step (a function of its
source and SAE seed only) and vmaps its K SAEs over it, so SAEs that differ only in the coefficient see the same
batches and start from the same atoms (common random numbers), and an SAE trained alone draws and starts exactly as it
does in the grid. Nothing reduces across SAEs. Checkpoints (sweep/checkpoint.py) make a stopped grid resume.
"""
from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from tqdm.auto import tqdm

from sweep import checkpoint
from sweep.config import ConfigError
from sweep.sae import model
from sweep.sae.config import SAEConfig
from sweep.sae.source import Sources, activations

MUTATE_ONLY = ["row_keys", "train_saes", "evaluate", "bytes_needed", "check_fits"]
EVAL_LABEL = 0x5AE0E7A1


class Rows(NamedTuple):
    """U = S sources x R seeds rows; K coefficients each."""

    features: jax.Array  # (U, d, G)
    density: jax.Array  # (U, G)
    key: jax.Array  # (U, 2) training batches and init: the source's seed and stream, the SAE seed
    eval_key: jax.Array  # (U, 2) the evaluation batch: the source only (every SAE seed sees the same one)
    coeff: jax.Array  # (U, K)


def row_keys(source_seed, stream, sae_seed):
    """(train/init key, eval key) of one (source, SAE seed): a function of those values only."""
    source = jax.random.fold_in(jax.random.PRNGKey(source_seed), stream)
    return jax.random.fold_in(source, sae_seed), jax.random.fold_in(source, EVAL_LABEL)


def stack(sources: Sources, cfg: SAEConfig, seeds: list[int], coeffs: list) -> Rows:
    """Rows in order (source, seed), coefficients along K."""
    s_idx = np.repeat(np.arange(len(sources)), len(seeds))
    seed = np.tile(np.asarray(seeds, np.uint32), len(sources))
    keys, eval_keys = jax.vmap(row_keys)(jnp.asarray(sources.seed[s_idx]), jnp.asarray(sources.stream[s_idx]),
                                         jnp.asarray(seed))
    dtype = jnp.float32 if cfg.arch == "l1" else jnp.int32
    coeff = jnp.tile(jnp.asarray(coeffs, dtype)[None, :], (len(s_idx), 1))
    return Rows(jnp.asarray(sources.features[s_idx]), jnp.asarray(sources.density[s_idx]), keys, eval_keys, coeff)


def compile_programs(sources: Sources, cfg: SAEConfig, n_latents: int):
    """init, run_steps (a scan of steps) and evaluate for one dictionary size, jitted, vmapped over rows and K."""
    opt = model.optimizer(cfg.lr, cfg.b1, cfg.b2, cfg.eps)

    def init_row(key, coeff):  # the K SAEs of a row start from the same atoms
        params = model.init(jax.random.fold_in(key, n_latents), sources.d, n_latents)
        params = jax.tree.map(lambda a: jnp.broadcast_to(a, (coeff.shape[0], *a.shape)), params)
        return params, jax.vmap(opt.init)(params)

    def row_step(state, row: Rows, step):
        h_t = activations(jax.random.fold_in(row.key, step), row.features, row.density, cfg.batch_size, sources)
        one = lambda p, o, c: model.step(p, o, h_t, cfg.arch, c, opt)  # noqa: E731
        params, opt_state, loss = jax.vmap(one)(state[0], state[1], row.coeff)
        return (params, opt_state), loss

    init = jax.jit(lambda rows: jax.vmap(init_row)(rows.key, rows.coeff))

    @jax.jit
    def run_steps(state, rows: Rows, steps):
        def body(state, step):
            return jax.vmap(row_step, in_axes=(0, 0, None))(state, rows, step)

        state, losses = jax.lax.scan(body, state, steps)
        return state, losses.mean(axis=0)

    @jax.jit
    def evaluate(params, rows: Rows):
        def row_eval(args):
            p, row = args
            h_t = activations(row.eval_key, row.features, row.density, cfg.eval_batch, sources)
            return jax.vmap(lambda q, c: reconstruction_stats(q, h_t, cfg.arch, c))(p, row.coeff)

        return jax.lax.map(row_eval, (params, rows))

    return init, run_steps, evaluate


def reconstruction_stats(params, h_t, arch: str, coeff) -> dict:
    """Per SAE on one evaluation batch: mse (per dimension), fve, l0 (mean active latents), fire rate per latent."""
    z = model.encode(params, h_t, arch, coeff)
    err = model.decode(params, z) - h_t
    centred = h_t - h_t.mean(axis=1, keepdims=True)
    active = z > 0
    return {"mse": jnp.mean(err ** 2), "fve": 1.0 - jnp.sum(err ** 2) / jnp.maximum(jnp.sum(centred ** 2), 1e-30),
            "l0": active.sum(axis=0).mean(), "fire_rate": active.mean(axis=1)}


def bytes_needed(sources: Sources, cfg: SAEConfig, n_latents: int) -> int:
    """Peak bytes of one program (one arch and dictionary size): U rows x K SAEs on (latents, batch) tensors.

    Per row a step holds the feature sample (~3 (G, batch) tensors: the draws and x) and h (d, batch); per SAE ~4
    (L, batch) tensors (pre-activations, z, their gradients) and 3 (d, batch) (reconstruction, error, its gradient),
    and 8 copies of the parameters (params, grads, two Adam moments, updates); the evaluation maps over rows, so one
    row's K SAEs on eval_batch samples at a time: ~4 (G, eval_batch) and 2 (d, eval_batch) tensors, and per SAE ~5
    (L, eval_batch) (pre-activations, z, the firing mask, ...) and 3 (d, eval_batch). 1.36x-1.67x XLA's own memory
    analysis (temp + arguments + outputs) of the compiled step and evaluation summed, at d, G, L = (5, 20, 40),
    (20, 100, 200), (64, 128, 256); tests/sweep/sae/test_train.py (test_memory_estimate_bounds_xla)."""
    from sweep.config import as_list

    rows, K = len(sources) * len(as_list(cfg.seed)), len(cfg.coeffs())
    d, G, L, B, E = sources.d, sources.features.shape[2], n_latents, cfg.batch_size, cfg.eval_batch
    step = rows * (3 * G + d) * B + rows * K * ((4 * L + 3 * d) * B + 8 * (2 * d * L + L + d))
    evaluation = (4 * G + 2 * d) * E + K * (5 * L + 3 * d) * E
    return 4 * (step + evaluation + rows * d * G)


def _size(n_bytes: int) -> str:
    return f"{n_bytes / 2**30:,.1f} GB" if n_bytes >= 2**30 else f"{n_bytes / 2**20:,.0f} MB"


def check_fits(sources: Sources, cfg: SAEConfig) -> None:
    """Refuse, before compiling, a grid whose largest program cannot fit in memory (one line: sweep.config.ConfigError)."""
    from sweep.config import as_list
    from sweep.memory import available_bytes

    have = available_bytes()
    for one in cfg.per_arch():
        for n_latents in (int(L) for L in as_list(cfg.dict_size)):
            need = bytes_needed(sources, one, n_latents)
            if need > have:
                raise ConfigError(
                    f"the SAE grid needs ~{_size(need)} ({len(sources)} sources x {len(as_list(cfg.seed))} "
                    f"seeds x {len(one.coeffs())} coefficients, {n_latents} latents, sae.batch_size={cfg.batch_size}, "
                    f"sae.eval_batch={cfg.eval_batch}, arch={one.arch}) but {_size(have)} is available; "
                    f"lower sae.batch_size or sae.eval_batch, or split the grid with -m")


def fingerprint(sources: Sources, cfg: SAEConfig, seeds, coeffs, n_latents: int) -> str:
    from sweep.identity import source_digest

    text = repr((cfg.arch, n_latents, list(seeds), list(coeffs), cfg.steps, cfg.batch_size, cfg.lr, cfg.b1, cfg.b2,
                 cfg.eps, sources.features.tobytes(), sources.density.tobytes(), sources.seed.tolist(),
                 sources.stream.tolist(), sources.hidden_relu, sources.distribution, sources.rng, sources.correlation,
                 sources.set_size, source_digest(Path(__file__).parent)))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def train_saes(sources: Sources, cfg: SAEConfig, n_latents: int, seeds=None, coeffs=None,
               checkpoint_path: Path | None = None) -> dict:
    """Train the (sources x seeds x coeffs) SAEs of one dictionary size; numpy results with (U, K, ...) leaves:
    params, loss (last logged interval's mean), the evaluation stats; and seconds, resumed_from_step."""
    from sweep.config import as_list

    seeds = [int(s) for s in as_list(cfg.seed)] if seeds is None else list(seeds)
    coeffs = cfg.coeffs() if coeffs is None else list(coeffs)
    rows = stack(sources, cfg, seeds, coeffs)
    init, run_steps, evaluate = compile_programs(sources, cfg, n_latents)
    start = time.perf_counter()
    state = init(rows)
    # take up a checkpoint of this grid where it stopped (a different grid or code: set aside, start over)
    key = fingerprint(sources, cfg, seeds, coeffs, n_latents)
    first, losses = 0, []
    restored = checkpoint.load(checkpoint_path, state, key) if checkpoint_path else None
    if restored:
        state, first, _, losses, _ = restored
    bar = tqdm(total=cfg.steps, initial=first, unit="step", disable=not cfg.progress,
               desc=f"{rows.coeff.size} SAEs x {n_latents} latents")
    with bar:
        for done in range(first, cfg.steps, cfg.log_every):
            length = min(cfg.log_every, cfg.steps - done)
            state, loss = run_steps(state, rows, jnp.arange(done, done + length))
            losses.append(np.asarray(loss))
            end = done + length
            due = cfg.checkpoint_every and end // cfg.checkpoint_every > done // cfg.checkpoint_every
            stopping = checkpoint.STOP.is_set() and end < cfg.steps  # SIGTERM / Ctrl-C: keep the state, then stop
            if checkpoint_path and (due or stopping) and end < cfg.steps:
                checkpoint.save(checkpoint_path, jax.tree.map(np.asarray, state), end, list(range(len(losses))),
                                losses, key)
            if stopping:
                raise SystemExit(143)
            bar.update(length)
            bar.set_postfix(loss=f"{np.nanmean(losses[-1]):.3g}")
    stats = jax.tree.map(np.asarray, evaluate(state[0], rows))
    if checkpoint_path and Path(checkpoint_path).exists():
        Path(checkpoint_path).unlink()
    return {"params": jax.tree.map(np.asarray, state[0]), "loss": np.asarray(losses[-1]).reshape(rows.coeff.shape),
            "seeds": seeds, "coeffs": coeffs, "seconds": time.perf_counter() - start, "resumed_from_step": first,
            **stats}
