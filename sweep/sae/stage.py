"""The SAE stage on its sources, writing OUT (default RUN/sae, one per run of a multirun; outputs/sae_synthetic):

    scores.parquet    one row per SAE (sweep/sae/score.py: scores)
    features.parquet  one row per SAE x true feature (score.py: features)
    saes.npz          the SAEs' parameters, W_dec_<L> (S R K, d, L) etc. per dictionary size L, rows as in scores
    summary.json      written last: the settings, seconds per dictionary size
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from sweep.config import as_list
from sweep.results import write_atomically
from sweep.sae import score
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


