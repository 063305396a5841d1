"""Entry point: `python -m sweep.run [overrides]` trains the config's whole grid in one program.

List-valued axes (sparsity=[0,0.9] seed=[0,1,2]) are fused here; `-m` sweeps are fused by the
`fused` sweeper (hydra_plugins/) into as few jobs as shapes allow.
"""
from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path

import hydra
import jax
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from sweep.checkpoint import CHECKPOINT
from sweep.config import Config, ConfigError, config_fingerprint
from sweep.grid import build_grid
from sweep.memory import check_fits
from sweep.results import (
    feature_table,
    history_table,
    is_complete,
    load_summary,
    write_run,
)
from sweep.train import train_grid

log = logging.getLogger(__name__)
logging.getLogger("jax._src.xla_bridge").setLevel(logging.WARNING)  # "no TPU" noise
HYDRA_FILES = {".hydra", "run.log", "main.log"}


def fail(run_dir: Path, error: Exception) -> None:
    """One line on stderr, exit 2, and remove the job dir if Hydra made it for this run alone."""
    print(f"config error: {error}", file=sys.stderr)
    if run_dir.is_dir() and {p.name for p in run_dir.iterdir()} <= HYDRA_FILES:
        shutil.rmtree(run_dir)
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


def run(config: Config, run_dir: Path, config_yaml: str) -> dict:
    """Train the (chunk of the) grid and write its results into run_dir.

    A complete run of the same config there is reused (not retrained); one of another config is
    never overwritten; a checkpoint of the same config is resumed.
    """
    fingerprint = config_fingerprint(config)
    if is_complete(run_dir):
        summary = load_summary(run_dir)
        if summary.get("fingerprint") != fingerprint:
            raise ConfigError(f"hydra.run.dir={run_dir} holds a complete run of another config; "
                              "pass another hydra.run.dir or delete it")
        log.info("already complete, not retrained: %s", run_dir)
        return {**summary, "reused": True}
    grid = build_grid(config).chunk(config.exec.chunk, config.exec.n_chunks)
    check_fits(len(grid), config.model.n_features, config.model.n_hidden, config.batch_size, grid.block_size())
    log.info("training %d models (n=%d, m=%d, %s) for %d steps", len(grid), config.model.n_features,
             config.model.n_hidden, config.model.kind, config.steps)
    run_dir.mkdir(parents=True, exist_ok=True)
    result = train_grid(config, grid, checkpoint_path=run_dir / CHECKPOINT, fingerprint=fingerprint)
    if result.resumed_from_step:
        log.info("resumed from the checkpoint at step %d", result.resumed_from_step)
    table = feature_table(grid, result.W, result.b, result.final_loss, result.final_loss_se)
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
        "resumed_from_step": result.resumed_from_step,
        "eval_batches": result.eval_batches,  # evaluation batches behind every model's `loss` (and `loss_se`)
    }
    write_run(run_dir, table, result.W, result.b, history_table(result.history_steps, result.history_loss),
              config_yaml, summary)
    (run_dir / CHECKPOINT).unlink(missing_ok=True)
    log.info("%d models in %.1f s (%.0f model-steps/s, compile %.1f s); results in %s", len(grid),
             result.seconds, summary["model_steps_per_s"], result.compile_seconds, run_dir)
    if diverged:
        log.warning("%d model(s) diverged (status=diverged in results): model_id %s", len(diverged), diverged)
    return summary  # figures: the Hydra callback analysis.callbacks.DrawFigures (conf/config.yaml)


@hydra.main(config_path="../conf", config_name="config", version_base="1.3")
def main(cfg: DictConfig) -> dict:
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        return run(validate(cfg), run_dir, OmegaConf.to_yaml(cfg, resolve=True))
    except ConfigError as error:
        fail(run_dir, error)


if __name__ == "__main__":
    main()
