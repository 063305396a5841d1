"""Entry point: `python -m sweep.run [overrides]` trains the config's whole grid in one program.

List-valued axes (sparsity=[0,0.9] seed=[0,1,2]) are fused here; `-m` sweeps are fused by the
`fused` sweeper (hydra_plugins/) into as few jobs as shapes allow.
"""
from __future__ import annotations

import difflib
import errno
import fcntl
import logging
import os
import re
import shlex
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

import hydra
import jax
from hydra.core.hydra_config import HydraConfig
from hydra.errors import (
    CompactHydraException,
    MissingConfigException,
    OverrideParseException,
)
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import ConfigAttributeError, ConfigKeyError, ValidationError

from sweep import checkpoint, timing
from sweep.checkpoint import CHECKPOINT
from sweep.config import Config, ConfigError
from sweep.grid import build_grid
from sweep.identity import code_version, config_fingerprint
from sweep.memory import available_bytes, bytes_per_model, check_fits
from sweep.recorder import snapshot_bytes, snapshot_steps
from sweep.resolvers import RESOLVER_HELP
from sweep.results import feature_table, history_table, is_complete, load_summary, shown, write_run
from sweep.train import train_grid

log = logging.getLogger(__name__)
logging.getLogger("jax._src.xla_bridge").setLevel(logging.WARNING)  # "no TPU" noise
HYDRA_FILES = {".hydra", "run.log", "main.log"}
UNWRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.ENOENT, errno.EEXIST}
GRAMMAR = "https://hydra.cc/docs/advanced/override_grammar/basic/"
STARTED = False  # set when a job starts: a ValueError after that is not about the command line
LOCKS: dict[Path, int] = {}  # run dir -> fd of the lock this process holds on it (sweep.run.lock)
RUN_DIR: Path | None = None  # the (latest) job's dir: what a Ctrl-C reports on


class InUse(ConfigError):
    """Another process holds the run dir (sweep.run.lock)."""


def remove_if_untouched(run_dir: Path) -> None:
    """Remove the job dir if it holds nothing but what Hydra made for this command, and its parents
    under the working dir that this leaves empty (outputs/runs/)."""
    if run_dir.is_dir() and {p.name for p in run_dir.iterdir()} <= HYDRA_FILES:
        shutil.rmtree(run_dir)
        cwd = Path.cwd().resolve()
        for parent in run_dir.resolve().parents:
            if parent == cwd or cwd not in parent.parents or any(parent.iterdir()):
                break
            parent.rmdir()


def fail(run_dir: Path, error: Exception) -> None:
    """One line on stderr, exit 2, and remove the job dir if Hydra made it for this run alone."""
    print(f"config error: {error}", file=sys.stderr)
    if not isinstance(error, InUse):  # the other process's dir
        remove_if_untouched(run_dir)
    sys.exit(2)


def validate(cfg: DictConfig) -> Config:
    """The structured config as dataclasses; every __post_init__ check runs here."""
    try:
        return OmegaConf.to_object(cfg)
    except ConfigError:
        raise
    except Exception as error:  # OmegaConf wraps errors raised inside __post_init__
        cause = error.__cause__ or error.__context__
        if isinstance(cause, ConfigError):
            raise cause from None
        raise


def complete_run(run_dir: Path, config: Config) -> dict | None:
    """The summary of the complete run in run_dir if it may be reused, None if there is none; refuses
    (ConfigError) one of another config, or of other code unless exec.reuse_other_code."""
    if not is_complete(run_dir):
        return None
    try:
        summary = load_summary(run_dir)
    except ValueError as error:
        raise ConfigError(f"{run_dir / 'summary.json'} cannot be read ({error}); delete {run_dir} to train again")
    if summary.get("fingerprint") != config_fingerprint(config):
        raise ConfigError(f"hydra.run.dir={run_dir} holds a complete run of another config; "
                          "pass another hydra.run.dir or delete it")
    made_by = summary.get("code_version", "a version before code versioning")
    if made_by != code_version() and not config.exec.reuse_other_code:
        raise ConfigError(f"{run_dir} holds a complete run of this config made by other code ({made_by}; this is "
                          f"{code_version()}); pass exec.reuse_other_code=true to reuse it, or delete it to retrain")
    return summary


def lock(run_dir: Path) -> None:
    """Hold an exclusive lock on run_dir (the dir itself: no file written) until this process ends; ConfigError if
    another process holds it."""
    run_dir.mkdir(parents=True, exist_ok=True)
    if run_dir.resolve() in LOCKS:  # this process holds it already (run() called again, e.g. in a notebook)
        return
    fd = os.open(run_dir, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise InUse(f"{run_dir} is in use by another process running this command; wait for it to end "
                          "(it trains and writes this run) or pass another hydra.run.dir") from None
    LOCKS[run_dir.resolve()] = fd  # released when the process ends


def dry_run(config: Config, run_dir: Path) -> dict:
    """Print what `run` would do (models, memory, the run dir's state); compile and write nothing."""
    grid = build_grid(config).chunk(config.exec.chunk, config.exec.n_chunks)
    check_fits(config, len(grid), grid.block_size())
    per_model = bytes_per_model(config, grid.block_size())
    complete, step = complete_run(run_dir, config), checkpoint.saved_step(run_dir / CHECKPOINT) or 0
    estimate = timing.said(timing.estimate(timing.work_per_step(config, len(grid)), config.steps - step))
    state = ("complete: would be reused" if complete else (f"has a checkpoint at step {step:,}: would resume from it if it "
             "matches" if step else "would train") + "; " + estimate)
    print(f"dry run: {len(grid):,} models (n={config.model.n_features}, m={config.model.n_hidden}, {config.model.kind}, "
          f"batch {config.batch_size}, {config.steps:,} steps) in 1 compiled program, ~{len(grid) * per_model / 2**20:,.3g} MB "
          f"of {available_bytes() / 2**30:,.1f} GB available; {run_dir}: {state}; nothing compiled or written")
    if config.exec.snapshots:
        kept = len(snapshot_steps(config.steps, config.exec.snapshots))
        print(f"exec.snapshots: {kept} snapshots x {len(grid):,} models x {snapshot_bytes(config):,} bytes = "
              f"{kept * len(grid) * snapshot_bytes(config) / 2**20:,.3g} MB on the host and in snapshots.npz")
    return {"dry_run": True}


def run(config: Config, run_dir: Path, config_yaml: str) -> dict:
    """Train the (chunk of the) grid and write its results into run_dir.

    A complete run of the same config and code there is reused (not retrained); one of another
    config is never overwritten; a checkpoint of the same config and code is resumed. One process at a time: a
    second one on the same run dir is refused (ConfigError) while the first holds its lock.
    """
    lock(run_dir)
    fingerprint = config_fingerprint(config)
    summary = complete_run(run_dir, config)
    if summary is not None:
        log.info("already complete, not retrained: %s", run_dir)
        return {**summary, "reused": True}
    start = time.perf_counter()
    grid = build_grid(config).chunk(config.exec.chunk, config.exec.n_chunks)
    check_fits(config, len(grid), grid.block_size())
    log.info("training %d models (n=%d, m=%d, %s) for %d steps", len(grid), config.model.n_features,
             config.model.n_hidden, config.model.kind, config.steps)
    run_dir.mkdir(parents=True, exist_ok=True)
    result = train_grid(config, grid, checkpoint_path=run_dir / CHECKPOINT,
                        fingerprint=f"{fingerprint}/{code_version()}")
    table = feature_table(grid, result.params, result.final_loss, result.final_loss_se, result.eval_batches,
                          result.train_loss)
    per_model = table.drop_duplicates("model_id")
    diverged = per_model.loc[per_model["status"] != "ok", "model_id"].tolist()
    summary = {
        "n_models": len(grid),
        "steps": config.steps,
        "seconds": result.seconds,
        "compile_seconds": result.compile_seconds,
        "model_steps_per_s": len(grid) * (config.steps - result.resumed_from_step) / result.seconds,
        "devices": jax.device_count(),
        "diverged_models": diverged,
        "chunk": config.exec.chunk,
        "n_chunks": config.exec.n_chunks,
        "fingerprint": fingerprint,
        "code_version": code_version(),  # package version + hash of sweep/*.py
        "resumed_from_step": result.resumed_from_step,
        # evaluation batches behind the models' `loss` (and `loss_se`): each model's own count is its eval_batches column
        "eval_batches": [int(result.eval_batches.min()), int(result.eval_batches.max())],
    }
    write_run(run_dir, table, result.params, history_table(result.history_steps, result.history_loss),
              config_yaml, summary, snapshots=result.snapshots)
    (run_dir / CHECKPOINT).unlink(missing_ok=True)
    timing.record(config, len(grid), config.steps - result.resumed_from_step, time.perf_counter() - start,
                  result.compile_seconds)  # what dry runs estimate from (sweep/timing.py)
    log.info("%d models in %.1f s (%.0f model-steps/s, compile %.1f s); results in %s", len(grid),
             result.seconds, summary["model_steps_per_s"], result.compile_seconds, run_dir)
    if diverged:
        log.warning("%d model(s) diverged (status=diverged in results): model_id %s", len(diverged), diverged)
    return summary  # figures: the Hydra callback analysis.callbacks.DrawFigures (conf/config.yaml)


@hydra.main(config_path="../conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> dict:
    global STARTED, RUN_DIR
    STARTED = True
    run_dir = RUN_DIR = shown(HydraConfig.get().runtime.output_dir)  # every message then names it as the user would
    if threading.current_thread() is threading.main_thread():  # (signal handlers can only be set there)
        signal.signal(signal.SIGINT, stop_on_ctrl_c)
    try:
        config = validate(cfg)
        if config.exec.dry_run:
            summary = dry_run(config, run_dir)
            log_file = run_dir / f"{HydraConfig.get().job.name}.log"  # opened by Hydra's logging, nothing written
            if log_file.exists() and log_file.stat().st_size == 0:
                log_file.unlink()
            remove_if_untouched(run_dir)
            return summary
        return run(config, run_dir, OmegaConf.to_yaml(cfg, resolve=True))
    except ConfigError as error:
        fail(run_dir, error)


def stop_on_ctrl_c(signum, frame) -> None:
    """First Ctrl-C: stop at the end of this chunk of steps with a checkpoint; a second one stops now."""
    if checkpoint.STOP.is_set():
        raise KeyboardInterrupt
    print("\nCtrl-C: stopping at the end of this chunk of steps, with a checkpoint (Ctrl-C again: stop now)",
          file=sys.stderr, flush=True)
    checkpoint.stop_at_next_chunk(signal.SIGINT)


def interrupted_message() -> str:
    """One line after Ctrl-C: what was kept and the command that resumes."""
    command = shlex.join(["python", "-m", "sweep.run", *sys.argv[1:]])
    path = RUN_DIR / CHECKPOINT if RUN_DIR else None
    step = checkpoint.saved_step(path) if path and path.exists() else None
    kept = f"the checkpoint at step {step:,} is kept in {path}" if step else "no checkpoint of this run yet"
    return f"interrupted: {kept}; the same command resumes: {command}"


def hydra_error_message(error: Exception) -> str:
    """One line for Hydra's own errors about a command line: unknown key, wrong type, missing config."""
    cause = error.__cause__
    if isinstance(error, MissingConfigException) and error.options and error.missing_cfg_file:
        group, _, name = error.missing_cfg_file.rpartition("/")
        return f"{group}={name!r} is not one of {', '.join(error.options)}"
    if isinstance(error, OverrideParseException):
        detail = [line for line in error.message.splitlines() if not line.startswith(("Error parsing", "See "))]
        return f"cannot parse {error.override!r}: {' '.join(detail) or 'bad syntax'} (grammar: {GRAMMAR})"
    if isinstance(cause, ValidationError) and cause.full_key:
        return f"{cause.full_key}={cause.value!r} has the wrong type: {str(cause.msg).splitlines()[0]}"
    if isinstance(cause, (ConfigAttributeError, ConfigKeyError)) and cause.full_key:
        keys = [f"{k}.{sub}" if isinstance(v, dict) else k
                for k, v in OmegaConf.to_container(OmegaConf.structured(Config)).items()
                for sub in (v if isinstance(v, dict) else [None])]
        close = difflib.get_close_matches(cause.full_key, keys, n=1)
        return f"{cause.full_key} is not a config key" + (f" (did you mean {close[0]}?)" if close else "")
    text = " ".join(line.strip() for line in str(error).splitlines() if line.strip())
    unknown = re.search(r"Unsupported interpolation type (\S+)", text)
    if unknown:
        return f"${{{unknown.group(1)}:...}} is not a resolver; grids in one value: {RESOLVER_HELP} (docs/reference.md)"
    return text


def cli() -> None:
    """`python -m sweep.run`: Hydra's errors about the command line are one line and exit 2, as ours are.

    HYDRA_FULL_ERROR=1 makes Hydra raise them instead of printing its multi-line report. Any other
    error, a ValueError once training has started, and every error when the user set HYDRA_FULL_ERROR=1
    keep their full traceback (exit 1).
    """
    if {"--help", "-h"} & set(sys.argv[1:]):  # ours, not Hydra's generic dump (--hydra-help still gives that)
        from sweep.help import run_help

        print(run_help())
        return
    full_error = os.environ.get("HYDRA_FULL_ERROR") == "1"
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        main()
    except KeyboardInterrupt:
        print(interrupted_message(), file=sys.stderr)
        sys.exit(130)
    except (CompactHydraException, ValueError) as error:  # Hydra raises ValueError for e.g. `=3`, `-m --cfg job`
        if full_error or (isinstance(error, ValueError) and STARTED):
            raise
        print(f"config error: {hydra_error_message(error)}", file=sys.stderr)
        sys.exit(2)
    except OSError as error:  # an output dir that cannot be made or written: read-only, a file in the way, /proc
        if full_error or error.errno not in UNWRITABLE or not error.filename:
            raise
        print(f"config error: cannot write {error.filename} ({error.strerror}); give a writable hydra.run.dir "
              "(hydra.sweep.dir with -m) or run from a writable dir", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    cli()
