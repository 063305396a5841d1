"""The SAE figures (experiments sae_toy, sae_synthetic), drawn from the stage's tables (analysis/sae.py):
recovery over the toy model's sparsity x the L1 coefficient, MMCS against dictionary size, and one model's true
features beside its SAE's atoms."""
from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from analysis.figures.common import STYLE, save
from analysis.sae import seed_mean


def recovery_grid(scores: pd.DataFrame, out_dir: Path, formats, name: str = "sae_recovery",
                  coefficient: str = "L1 coefficient") -> list[Path]:
    """Heatmaps, one per dictionary size: rows the toy model's sparsity, columns the coefficient (L1's, or TopK's k),
    colour the share of represented true features recovered (seed mean), written in each cell with MMCS below it."""
    sizes = sorted(scores["dict_size"].unique())
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(4.2 * len(sizes), 3.6))
        for i, size in enumerate(sizes):
            ax = fig.add_subplot(1, len(sizes), i + 1)
            part = scores[scores["dict_size"] == size]
            rec = seed_mean(part, ["sparsity", "coeff"], "recovered").pivot(index="sparsity", columns="coeff",
                                                                             values="recovered")
            mm = seed_mean(part, ["sparsity", "coeff"], "mmcs").pivot(index="sparsity", columns="coeff", values="mmcs")
            image = ax.imshow(rec.to_numpy(), vmin=0, vmax=1, cmap="viridis", aspect="auto")
            for (r, c), value in np.ndenumerate(rec.to_numpy()):
                ax.text(c, r, f"{value:.2f}\n{mm.to_numpy()[r, c]:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if value < 0.6 else "black")
            ax.set_xticks(range(len(rec.columns)), [f"{c:.2g}" for c in rec.columns], rotation=45)
            ax.set_yticks(range(len(rec.index)), [f"{s:.3g}" for s in rec.index])
            ax.set_xlabel(coefficient)
            ax.set_ylabel("toy model sparsity S" if i == 0 else "")
            ax.set_title(f"{size} latents: recovered share (MMCS)", fontsize=9)
        fig.colorbar(image, ax=fig.axes, shrink=0.8, label="share of represented features recovered (cos > 0.9)")
        return save(fig, out_dir, name, formats)


def recovery_per_dim(lines: dict, out_dir: Path, formats, label: str, name: str = "sae_per_dim") -> list[Path]:
    """Recovered share (best coefficient or k, seed mean) per toy density, one line per {label: arch_cells table}
    (index sparsity; columns per_dim, recovered); the x ticks name the density 1-S and the represented features per
    hidden dim."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(6.4, 3.9), layout="constrained")
        ax = fig.add_subplot()
        first = next(iter(lines.values()))
        for i, (text, cells) in enumerate(lines.items()):
            ax.plot(range(len(cells)), cells["recovered"], "o-" if text.startswith("l1") else "s--", label=text,
                    color=matplotlib.colormaps["tab10"](i))
        ax.set_xticks(range(len(first)), [f"{1 - s:.3g}\n{d:.1f}/dim" for s, d in zip(first.index, first["per_dim"])])
        ax.set_xlabel("toy model density 1-S (represented features per hidden dim)")
        ax.set_ylabel("share of represented features recovered")
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(f"{label}: recovery as superposition grows (best coefficient / k per point)", fontsize=9)
        ax.legend(fontsize=7)
        return save(fig, out_dir, name, formats)


def mmcs_by_size(scores: pd.DataFrame, out_dir: Path, formats, hue: str = "coeff", name: str = "sae_mmcs_size",
                 reference: float | None = None) -> list[Path]:
    """MMCS (seed and source mean, min-max band) against dictionary size, one line per L1 coefficient; `reference`:
    a dashed line at the number of ground-truth features."""
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(5.2, 3.8))
        ax = fig.add_subplot()
        means = seed_mean(scores, [hue, "dict_size"], "mmcs")
        colours = LogNorm(means[hue].min(), means[hue].max()) if means[hue].min() > 0 else None
        for value, line in means.groupby(hue):
            colour = matplotlib.colormaps["plasma"](colours(value) * 0.85) if colours else None
            ax.plot(line["dict_size"], line["mmcs"], "o-", color=colour, label=f"{value:.2g}")
            ax.fill_between(line["dict_size"], line["mmcs_min"], line["mmcs_max"], color=colour, alpha=0.15)
        if reference:
            ax.axvline(reference, ls="--", color="grey", lw=1)
            ax.text(reference, 0.02, " true features", color="grey", fontsize=8, transform=ax.get_xaxis_transform())
        ax.set_xscale("log", base=2)
        sizes = sorted(means["dict_size"].unique())
        ax.set_xticks(sizes, [str(int(v)) for v in sizes])
        ax.minorticks_off()
        ax.set_xlabel("dictionary size (latents)")
        ax.set_ylabel("MMCS (true features vs atoms)")
        ax.set_ylim(0, 1.02)
        ax.legend(title="L1 coefficient" if hue == "coeff" else hue, fontsize=7)
        return save(fig, out_dir, name, formats)


def atoms_beside_features(features: np.ndarray, represented: np.ndarray, atoms: np.ndarray, out_dir: Path, formats,
                          label: str, name: str = "sae_atoms") -> list[Path]:
    """One model: its true features (columns of W, d x G) and the SAE's atoms (d x L), atoms ordered by the true
    feature they match best, beside their cosine matrix."""
    f = features / np.maximum(np.linalg.norm(features, axis=0), 1e-12)
    cos = f.T @ atoms  # (G, L)
    order = np.argsort(cos.argmax(axis=0) + 1e-3 * -cos.max(axis=0))
    with matplotlib.rc_context(STYLE):
        fig = Figure(figsize=(13.5, 3.8), layout="constrained")
        for i, (matrix, title) in enumerate(((features, "true features W_i (columns)"),
                                             (atoms[:, order], "SAE atoms (unit columns)"),
                                             (cos[:, order], "cosine: true feature x atom"))):
            ax = fig.add_subplot(1, 3, i + 1)
            bound = 1.0 if i == 2 else float(np.abs(matrix).max())  # the cosines on [-1, 1], the vectors on their own
            image = ax.imshow(matrix, cmap="RdBu_r", vmin=-bound, vmax=bound, aspect="auto")
            ax.set_title(title, fontsize=9)
            ax.set_xlabel("atom" if i else "feature")
            ax.set_ylabel("true feature" if i == 2 else "hidden dim")
            if i == 2:
                ax.yaxis.set_major_locator(MaxNLocator(integer=True))
            if i == 2:
                for g in np.flatnonzero(~represented):
                    ax.axhline(g, color="grey", lw=3, alpha=0.4)
            fig.colorbar(image, ax=ax, shrink=0.8)
        fig.suptitle(f"{label}; grey rows: true features not represented (||W_i|| <= 0.5)" if (~represented).any()
                     else label, fontsize=10)
        return save(fig, out_dir, name, formats)
