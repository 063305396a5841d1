"""The SAE stage on its sources, writing OUT (default RUN/sae, one per run of a multirun; outputs/sae_synthetic):

    scores.parquet    one row per SAE (sweep/sae/score.py: scores)
    features.parquet  one row per SAE x true feature (score.py: features)
    saes.npz          the SAEs' parameters, W_dec_<arch>_<L> (S R K, d, L) etc. per program, rows as in scores
    saes.npz          also the true features: features (S, d, G), represented (S, G)
    sae.json          written last: the settings, the fingerprint, SAEs (n_models) and seconds; a later command with
                      the same fingerprint (settings, sources, code of sweep/sae/) reuses OUT instead of retraining
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import OmegaConf

from sweep.config import as_list
from sweep.results import write_atomically
from sweep.sae import score
from sweep.sae.source import Sources, from_run, run_dirs, synthetic
from sweep.sae.train import check_fits, train_saes

SYNTHETIC_OUT = "outputs/sae_synthetic"
SUMMARY = "sae.json"
PRESENTATION = ("progress", "log_every", "checkpoint_every")  # never change an SAE


def fingerprint(sources: Sources, cfg) -> str:
    """Hash of what makes the results: the SAE settings (not how they are shown), the sources, sweep/sae/'s code."""
    from sweep.identity import source_digest

    settings = {k: v for k, v in OmegaConf.to_container(OmegaConf.structured(cfg.sae)).items() if k not in PRESENTATION}
    digest = hashlib.sha1(json.dumps(settings, sort_keys=True, default=str).encode())
    for part in (sources.features, sources.density, sources.represented, sources.seed, sources.stream):
        digest.update(part.tobytes())
    digest.update(repr((sources.hidden_relu, sources.distribution, sources.rng, sources.correlation, sources.set_size,
                        source_digest(Path(__file__).parent))).encode())
    return digest.hexdigest()[:16]


def stage(sources: Sources, cfg, out: Path) -> pd.DataFrame:
    """Train and score every dictionary size of cfg.sae on `sources`; write OUT's files; the scores table (read back
    when OUT already holds this fingerprint's results)."""
    key = fingerprint(sources, cfg)
    if (out / SUMMARY).exists() and json.loads((out / SUMMARY).read_text()).get("fingerprint") == key:
        return pd.read_parquet(out / "scores.parquet")
    out.mkdir(parents=True, exist_ok=True)
    tables, per_feature, weights, seconds = [], [], {}, {}
    for sae, n_latents in [(one, int(L)) for one in cfg.sae.per_arch() for L in as_list(cfg.sae.dict_size)]:
        tag = f"{sae.arch}_{n_latents}"
        result = train_saes(sources, sae, n_latents, checkpoint_path=out / f"checkpoint_{tag}.npz")
        tables.append(score.scores(sources, result, sae.arch, n_latents, cfg.sae.recovered_cos))
        per_feature.append(score.features(sources, result, sae.arch, n_latents, cfg.sae.recovered_cos))
        weights.update({f"{name}_{tag}": a.reshape(-1, *a.shape[2:]) for name, a in result["params"].items()})
        seconds[tag] = result["seconds"]
    table = pd.concat(tables, ignore_index=True)
    write_atomically(out / "scores.parquet", lambda p: table.to_parquet(p, index=False))
    write_atomically(out / "features.parquet", lambda p: pd.concat(per_feature).to_parquet(p, index=False))

    def save(p):
        with open(p, "wb") as f:
            np.savez(f, features=sources.features, represented=sources.represented, **weights)

    write_atomically(out / "saes.npz", save)
    summary = {"config": OmegaConf.to_container(OmegaConf.structured(cfg)), "fingerprint": key,
               "n_models": len(table), "seconds": sum(seconds.values()), "seconds_per_program": seconds}
    write_atomically(out / SUMMARY, lambda p: p.write_text(json.dumps(summary, indent=2, default=str)))
    return table


def main_stage(cfg) -> list[Path]:
    """Every output dir written."""
    if cfg.run is None:
        jobs = [(synthetic(cfg.synthetic), Path(cfg.out or SYNTHETIC_OUT))]
    else:
        jobs = [(from_run(run_dir, cfg.sae.select), Path(cfg.out) / run_dir.relative_to(cfg.run) if cfg.out
                 else run_dir / "sae") for run_dir in run_dirs(cfg.run)]
    for sources, _ in jobs:  # every grid checked before anything is trained or written
        check_fits(sources, cfg.sae)
    for sources, out in jobs:
        stage(sources, cfg, out)
    return [out for _, out in jobs]


