"""The bookkeeping of one training run, kept out of the training loop: which steps end a chunk (`chunk_plan`), the
loss history, the weights kept at the snapshot steps (exec.snapshots), checkpoints (save and resume) and timing and
the progress bar, the result (`TrainResult`) and the final evaluation's statistics (`final_evaluation`: each model's
own batch count). Nothing here changes a model's weights or random streams.
"""
from __future__ import annotations

import logging
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import jax
import numpy as np
from tqdm.auto import tqdm

from sweep import checkpoint
from sweep.config import Config
from sweep.kinds import KINDS, Params

log = logging.getLogger(__name__)


def snapshot_steps(steps: int, count: int) -> np.ndarray:
    """The steps after which exec.snapshots=count keeps the weights: `count` log-spaced integers from 1 to `steps`,
    both included; rounding merges the first ones, so there are fewer when count is large against log(steps)."""
    if count == 0:
        return np.zeros(0, np.int64)
    return np.unique(np.round(np.geomspace(1, steps, count)).astype(np.int64)) if count > 1 else np.asarray([steps])


def snapshot_bytes(cfg: Config) -> int:
    """Host memory (and snapshots.npz size) of one model's snapshot: its float32 parameters, 4 (m n + n) bytes for
    the tied kinds (4 (2 m n + n) untied)."""
    kind, n, m = KINDS[cfg.model.kind], cfg.model.n_features, cfg.model.n_hidden
    shapes = jax.eval_shape(lambda: kind.init(jax.random.PRNGKey(0), n, m))
    return sum(4 * int(np.prod(leaf.shape)) for leaf in jax.tree.leaves(shapes))


def chunk_plan(cfg: Config, first_step: int) -> list[tuple[int, list[int]]]:
    """[(first step, lengths of its scans)] from first_step to cfg.steps. Without snapshots: one scan of
    exec.log_every steps per chunk (the code path every earlier run took). With exec.snapshots the snapshot steps
    are extra chunk ends and each chunk runs as scans of power-of-two lengths (descending), so the many chunk
    lengths compile at most log2(log_every) + 1 programs; the steps, and so the weights, are the same."""
    every, steps = cfg.exec.log_every, cfg.steps
    if not cfg.exec.snapshots:
        return [(first, [min(first + every, steps) - first]) for first in range(first_step, steps, every)]
    ends = sorted({*range(every, steps, every), steps, *snapshot_steps(steps, cfg.exec.snapshots).tolist()})
    plan, first = [], first_step
    for end in (e for e in ends if e > first_step):
        length, scans = end - first, []
        while length:
            scans.append(1 << (length.bit_length() - 1))
            length -= scans[-1]
        plan.append((first, scans))
        first = end
    return plan


class Recorder:
    """What a run keeps besides its final state: one loss-history point per chunk, the snapshots, the checkpoints
    (every exec.checkpoint_every steps, to `checkpoint_path`), the timing and the progress bar.

    `unpad` turns the trainer's stacked (streams, models, ...) arrays into (models, ...) numpy arrays.
    """

    def __init__(self, cfg: Config, n_models: int, unpad: Callable, checkpoint_path: Path | None = None,
                 fingerprint: str = "", progress: bool = True):
        self.cfg, self.n_models, self.unpad = cfg, n_models, unpad
        self.checkpoint_path, self.fingerprint, self.progress = checkpoint_path, fingerprint, progress
        self.start = time.perf_counter()  # before the models are initialised: `seconds` counts everything
        self.first_step, self.history_steps, self.history_loss, self.kept = 0, [], [], {}
        self.keep_at = set(snapshot_steps(cfg.steps, cfg.exec.snapshots).tolist())
        self.compile_seconds, self.last_saved, self.tick = None, 0, self.start

    def resume(self, template):
        """The (models, ...) train state of a matching checkpoint, with its history and snapshots taken up from it;
        None (train from step 0) if there is none."""
        restored = checkpoint.load(self.checkpoint_path, template, self.fingerprint) if self.checkpoint_path else None
        saved = None
        if restored:
            saved, self.first_step, self.history_steps, self.history_loss, kept = restored
            self.kept = {name: list(a) for name, a in kept.items()}  # name -> one array per snapshot so far
            log.info("resuming from the checkpoint at step %d of %d (%s)", self.first_step, self.cfg.steps,
                     self.checkpoint_path)
        self.last_saved, self.tick = self.first_step, time.perf_counter()
        return saved

    def __enter__(self):
        self.bar = tqdm(total=self.cfg.steps, initial=self.first_step, unit="step", disable=not self.progress,
                        desc=f"{self.n_models} models")
        return self

    def __exit__(self, *error):
        self.bar.close()

    def chunk(self, state, first: int, done: int, scans: list[int], losses: list) -> None:
        """Steps first .. done - 1 are trained (as scans of these lengths, with these mean losses): record them."""
        pieces = [self.unpad(part) for part in losses]  # blocks until the chunk is done
        loss = pieces[0] if len(scans) == 1 else np.average(pieces, axis=0, weights=scans).astype(np.float32)
        if self.compile_seconds is None:
            self.compile_seconds = time.perf_counter() - self.start
        self.history_steps.append(done - 1)
        self.history_loss.append(loss)
        if done in self.keep_at:
            for name, value in {"step": np.int64(done), **self.unpad(state.params)}.items():
                self.kept.setdefault(name, []).append(value)
        every = self.cfg.exec.checkpoint_every
        due = every and done - self.last_saved >= every
        stopping = checkpoint.STOP.is_set() and done < self.cfg.steps  # SIGTERM in a SLURM task (hydra_plugins/slurm_launcher/)
        if self.checkpoint_path and (due or stopping) and done < self.cfg.steps:
            checkpoint.save(self.checkpoint_path, self.unpad(state), done, self.history_steps, self.history_loss,
                            self.fingerprint, self.snapshots())
            self.last_saved = done
        if stopping and checkpoint.STOP_SIGNAL[0] == signal.SIGINT:
            raise KeyboardInterrupt  # Ctrl-C: sweep.run.cli says what was kept and how to resume
        if stopping:
            log.warning("SIGTERM: stopped at step %d (checkpoint: %s); a requeued task resumes there", done,
                        self.checkpoint_path)
            raise SystemExit(128 + signal.SIGTERM)
        rate = (done - first) / max(time.perf_counter() - self.tick, 1e-9)
        self.bar.update(done - first)
        self.bar.set_postfix(model_steps_per_s=f"{rate * self.n_models:,.0f}", loss=f"{np.nanmean(loss):.3g}")
        self.tick = time.perf_counter()  # the next chunk starts

    def snapshots(self) -> dict:
        """The weights kept so far: {"step": (S,), "W": (S, models, m, n), "b": ..., ...} (empty before any)."""
        return {name: np.stack(values) for name, values in self.kept.items()}

    def result(self) -> dict:
        """TrainResult's bookkeeping fields."""
        return {"history_steps": np.asarray(self.history_steps), "history_loss": np.stack(self.history_loss),
                "seconds": time.perf_counter() - self.start, "compile_seconds": self.compile_seconds or 0.0,
                "resumed_from_step": self.first_step,
                "snapshots": self.snapshots() if self.cfg.exec.snapshots else None}


@dataclass
class TrainResult:
    params: Params  # {"W": (G, m, n), "b": (G, n)}, and "W2": (G, n, m) for an untied kind (sweep/kinds.py)
    final_loss: np.ndarray  # (G,) mean loss over `eval_batches` evaluation batches at the final weights
    history_steps: np.ndarray  # (T,) last step of each logged interval
    history_loss: np.ndarray  # (T, G) mean training loss over each interval
    seconds: float
    compile_seconds: float
    resumed_from_step: int = 0
    final_loss_se: np.ndarray | None = None  # (G,) standard error of final_loss: std of per-batch losses / sqrt(batches)
    eval_batches: np.ndarray | None = None  # (G,) evaluation batches behind each model's final_loss (its own count)
    snapshots: dict | None = None  # exec.snapshots: {"step": (S,), "W": (S, G, m, n), "b": (S, G, n), ...}
    train_loss: np.ndarray | None = None  # (G,) data.train_size > 0: loss on the model's own T training samples

    @property
    def W(self) -> np.ndarray:  # (G, m, n); an untied kind's W1
        return self.params["W"]

    @property
    def b(self) -> np.ndarray:  # (G, n)
        return self.params["b"]


def final_evaluation(evaluate, params, stacked, cfg: Config, unpad) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(final_loss, its standard error, batches), each (G,): every model's own batch count, a function of its own
    losses only. A model starts with exec.eval_batches batches and doubles them while its standard error is above
    exec.eval_rel_se of its loss, up to exec.eval_max_batches; batch i of a density is the same for every model
    (eval_key), so a model's final loss never depends on which other models share its job."""
    ex = cfg.exec
    losses = np.zeros((0, 0))

    def measure(upto):  # (G, upto) per-batch losses, evaluated exec.eval_batches at a time for the whole job
        nonlocal losses
        while losses.shape[1] < upto:
            more = unpad(evaluate(params, stacked, losses.shape[1]))  # (G, eval_batches)
            losses = more if losses.size == 0 else np.concatenate([losses, more], axis=1)
        return losses

    start = min(ex.eval_batches, ex.eval_max_batches)
    batches = np.full(len(measure(start)), start)
    mean, se = np.zeros(len(batches)), np.full(len(batches), np.inf)
    todo = np.ones(len(batches), bool)
    while todo.any():
        for t in np.unique(batches[todo]):  # each model's statistics from its own first t batches
            rows = todo & (batches == t)
            own = measure(t)[rows, :t]
            mean[rows] = own.mean(axis=1)
            se[rows] = own.std(axis=1, ddof=1) / np.sqrt(t) if t > 1 else np.inf
        noisy = np.isfinite(mean) & ~(se <= ex.eval_rel_se * np.abs(mean))
        todo = noisy & (batches < ex.eval_max_batches)
        batches[todo] = np.minimum(2 * batches[todo], ex.eval_max_batches)
    return mean, se, batches
