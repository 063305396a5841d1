"""`python -m sweep.sae run=PATH [sae.* overrides]`: SAEs on every model of a finished run (or, without run=, on
synthetic activations), scored against the true features; tables in OUT (default RUN/sae, one per run of a multirun):

    scores.parquet    one row per SAE (sweep/sae/score.py: scores)
    features.parquet  one row per SAE x true feature (score.py: features)
    saes.npz          the SAEs' parameters, W_dec_<L> (S R K, d, L) etc. per dictionary size L, rows as in scores
    summary.json      written last: the settings, seconds per dictionary size
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import hydra
import numpy as np
import pandas as pd
from hydra.errors import CompactHydraException
from omegaconf import DictConfig, OmegaConf

from sweep.config import ConfigError, as_list
from sweep.results import write_atomically
from sweep.sae import score
from sweep.sae.config import StageConfig  # noqa: F401 (registers sae_schema)
from sweep.sae.source import Sources, from_run, run_dirs, synthetic
from sweep.sae.train import train_saes

SYNTHETIC_OUT = "outputs/sae_synthetic"


def stage(sources: Sources, cfg, out: Path) -> pd.DataFrame:
    """Train and score every dictionary size of cfg.sae on `sources`; write OUT's files; the scores table."""
    out.mkdir(parents=True, exist_ok=True)
    tables, per_feature, weights, seconds = [], [], {}, {}
    for n_latents in [int(L) for L in as_list(cfg.sae.dict_size)]:
        result = train_saes(sources, cfg.sae, n_latents, checkpoint_path=out / f"checkpoint_L{n_latents}.npz")
        tables.append(score.scores(sources, result, cfg.sae.arch, n_latents, cfg.sae.recovered_cos))
        per_feature.append(score.features(sources, result, cfg.sae.arch, n_latents, cfg.sae.recovered_cos))
        weights.update({f"{name}_{n_latents}": a.reshape(-1, *a.shape[2:]) for name, a in result["params"].items()})
        seconds[n_latents] = result["seconds"]
    table = pd.concat(tables, ignore_index=True)
    write_atomically(out / "scores.parquet", lambda p: table.to_parquet(p, index=False))
    write_atomically(out / "features.parquet", lambda p: pd.concat(per_feature).to_parquet(p, index=False))

    def save(p):
        with open(p, "wb") as f:
            np.savez(f, **weights)

    write_atomically(out / "saes.npz", save)
    summary = {"config": OmegaConf.to_container(OmegaConf.structured(cfg)), "seconds": seconds, "n_saes": len(table)}
    write_atomically(out / "summary.json", lambda p: p.write_text(json.dumps(summary, indent=2, default=str)))
    return table


def main_stage(cfg) -> list[Path]:
    """Every output dir written."""
    if cfg.run is None:
        out = Path(cfg.out or SYNTHETIC_OUT)
        stage(synthetic(cfg.synthetic), cfg, out)
        return [out]
    written = []
    for run_dir in run_dirs(cfg.run):
        out = Path(cfg.out) / run_dir.relative_to(cfg.run) if cfg.out else run_dir / "sae"
        stage(from_run(run_dir, cfg.sae.select), cfg, out)
        written.append(out)
    return written


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
    for out in main_stage(validate(cfg)):
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
