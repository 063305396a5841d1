"""`python -m sweep.sae run=PATH [sae.* overrides]`: SAEs on every model of a finished run (or, without run=, on
synthetic activations), scored against the true features (sweep/sae/stage.py says what is written where)."""
from __future__ import annotations

import os
import signal
import sys
import threading

import hydra
from hydra.errors import CompactHydraException
from omegaconf import DictConfig, OmegaConf

from sweep import checkpoint
from sweep.config import ConfigError
from sweep.sae.config import StageConfig  # noqa: F401 (registers sae_schema)
from sweep.sae.stage import main_stage


def validate(cfg: DictConfig) -> StageConfig:
    try:
        return OmegaConf.to_object(cfg)
    except Exception as error:  # OmegaConf wraps the ConfigError of a __post_init__
        cause = error if isinstance(error, ConfigError) else (error.__cause__ or error.__context__)
        if isinstance(cause, ConfigError):
            raise cause from None
        raise


@hydra.main(config_path="../../conf", config_name="sae", version_base="1.3")
def main(cfg: DictConfig) -> None:
    if threading.current_thread() is threading.main_thread():  # SIGTERM: checkpoint at the next chunk end, exit 143
        signal.signal(signal.SIGTERM, checkpoint.stop_at_next_chunk)
    try:
        written = main_stage(validate(cfg))
    except ConfigError as error:  # one line, exit 2 (Hydra would log the job's overrides first)
        print(f"config error: {error}", file=sys.stderr)
        sys.exit(2)
    for out in written:
        print(f"SAE scores: {out / 'scores.parquet'}")


def cli() -> None:
    """Config errors (ours and Hydra's) are one line on stderr and exit 2, as `python -m sweep.run`'s are."""
    full_error = os.environ.get("HYDRA_FULL_ERROR") == "1"
    os.environ["HYDRA_FULL_ERROR"] = "1"
    try:
        main()
    except (ConfigError, CompactHydraException) as error:
        if full_error:
            raise
        text = " ".join(line.strip() for line in str(error).splitlines() if line.strip())
        print(f"config error: {text}", file=sys.stderr)
        sys.exit(2)
    except Exception as error:
        cause = error.__cause__
        if full_error or cause is None or type(cause).__name__ not in ("ConfigAttributeError", "ConfigKeyError",
                                                                      "ValidationError"):
            raise
        print(f"config error: {getattr(cause, 'full_key', '')}: {str(cause.msg).splitlines()[0]}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    cli()
