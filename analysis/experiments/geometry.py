"""The geometry of uniform superposition (the paper's section 'The Geometry of Superposition'): dimensions per feature
D* = m / ||W||_F^2 and each feature's dimensionality D_i over density, uniform importance (`geometry`: n=400, m=30;
`notebook_geometry`: the notebook's n=200, m=20; docs/experiments/geometry.md). One seed per density (the preset), so
no seed is ranked; a preset with more seeds reads each density's lowest-loss seed (`run.best`).

Beside m / ||W||_F^2, what it is made of at the sparsest density: it is (m/n) / mean ||W_i||^2, so it goes below m/n
when norms grow above 1, while the scale-free mean D_i stays near m/n (sum D_i <= m); a value under m/n is not more
features per dimension.

The clusters and tegum factors (analysis/tegum.py: near a fraction, edges |W_i . W_j| > EDGE, polytope names) are read
on the models *in superposition*: D* < SUPERPOSED (below it the dense model already shares dimensions)."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from analysis.experiments.claims import FORMATS, PAPER, Claim, Preset, Verdict, evaluate
from analysis.figures.common import STYLE, save, title
from analysis.run import Run
from analysis.tegum import EDGE, NEAR, POLYTOPES, near_fraction, polytopes
from sweep.metrics import REPRESENTED_NORM, dimensionality

PRESETS = (Preset("geometry", ("dims_per_feature", "dimensionality", "geometry_clusters", "geometry_graph"),
                   findings=True),  # its FAILs have the 4x evidence (docs/experiments/geometry.md)
           Preset("notebook_geometry", ("dims_per_feature", "dimensionality", "geometry_clusters")))
SOURCE = f"{PAPER}, section 'The Geometry of Superposition' > 'Uniform Superposition'"
DIMENSIONALITY = SOURCE + " > 'Feature Dimensionality'"
STRUCTURES = SOURCE + " > 'Why These Geometric Structures?'"
SUPERPOSED = 0.9  # a model is in superposition when D* < this (as the `dense` claim's threshold)
PLATEAU_TOL = 0.05  # D* on the 1/2 plateau: within this of 1/2 ...
PLATEAU_SPAN = 1.5  # ... at consecutive densities spanning at least this factor in 1/(1-S)
MOST = 0.5  # "cluster": more than half the represented features near a fraction / in a named polytope
EFFICIENT = 0.9  # packing is efficient when at least this share of represented features is in named polytopes ...
FULL = 0.9  # ... and there sum_i D_i >= FULL * m
BIG = 12  # the graph figure draws the edges of components up to this size (a larger one: its nodes and its size)


def _dims(run: Run):
    return run.best.sort_values("density", ascending=False)["dims_per_feature"].to_numpy()


def dense(run: Run) -> Verdict:
    dims = _dims(run)
    return Verdict(dims[0] > 0.9, f"{dims[0]:.3f}")


def sparsest(run: Run) -> Verdict:
    dims, best = _dims(run), run.best_rows
    at = best[np.isclose(best["density"], run.best.sort_values("density", ascending=False)["density"].iloc[-1])]
    m, n = int(run.setting("n_hidden")), int(run.setting("n_features"))
    return Verdict(dims[-1] < 0.5 * dims[0], f"{dims[-1]:.3f} (m/n = {m / n:.3f}; mean ||W_i||^2 {(at['norm'] ** 2).mean():.2f}; "
                                             f"mean D_i {at['dimensionality'].mean():.3f})")


def models(run: Run) -> list[dict]:
    """Per density (densest first): density, D*, W, D (n,), represented (n,) bool, its tegum factors."""
    out = []
    for _, row in run.best.sort_values("density", ascending=False).iterrows():
        W = run.W(row).astype(np.float64)
        out.append({"density": float(row["density"]), "dims": float(row["dims_per_feature"]), "W": W,
                    "D": dimensionality(W), "represented": np.linalg.norm(W, axis=0) > REPRESENTED_NORM,
                    "factors": polytopes(W)})
    return out


def _superposed(run: Run) -> list[dict]:
    return [m for m in run.once(models) if m["dims"] < SUPERPOSED]


def plateau(run: Run) -> Verdict:
    ms = run.once(models)
    on = [abs(m["dims"] - 0.5) <= PLATEAU_TOL for m in ms]
    best_span, start = 1.0, None
    for k, flag in enumerate(on + [False]):
        if flag and start is None:
            start = k
        if not flag and start is not None:
            best_span, start = max(best_span, ms[start]["density"] / ms[k - 1]["density"]), None
    at = ", ".join(f"{1 / m['density']:.3g}: {m['dims']:.3f}" for m, f in zip(ms, on) if f) or "none"
    return Verdict(best_span >= PLATEAU_SPAN, f"longest run spans a factor {best_span:.2f} in 1/(1-S); D* there "
                                              f"(1/(1-S): D*) {at}")


def clustered(run: Run) -> Verdict:
    ms = _superposed(run)
    near = [near_fraction(m["D"][m["represented"]]) for m in ms]
    total = np.concatenate(near) if near else np.array([], bool)
    each = ", ".join(f"{1 / m['density']:.3g}: {k.mean():.0%}" for m, k in zip(ms, near) if k.size)
    return Verdict(bool(total.size) and total.mean() > MOST,
                   f"{total.mean():.0%} of {total.size} represented features in {len(ms)} models (per 1/(1-S): {each})"
                   if total.size else "no represented feature in a model in superposition")


def named(run: Run) -> Verdict:
    ms = _superposed(run)
    counts, inside, total = Counter(), 0, 0
    for m in ms:
        for polytope, f in m["factors"]:
            counts[polytope if not polytope.startswith("other") else "other"] += 1
            inside += len(f) * (not polytope.startswith("other"))
            total += len(f)
    share = inside / total if total else 0.0
    return Verdict(share > MOST, f"{share:.0%} of {total} represented features in named factors; factors: "
                                 + ", ".join(f"{k} {v}" for k, v in counts.most_common())
                                 + f"; the share with edges > 0.3 / 0.4 instead: {_named_share(ms, 0.3):.0%} / "
                                   f"{_named_share(ms, 0.4):.0%}")


def _named_share(ms: list[dict], edge: float) -> float:
    """The share of represented features in named factors with another edge threshold (how the verdict moves)."""
    parts = [(p, len(f)) for m in ms for p, f in polytopes(m["W"], edge)]
    total = sum(k for _, k in parts)
    return sum(k for p, k in parts if not p.startswith("other")) / total if total else 0.0


def sum_near_m(run: Run) -> Verdict:
    m_hidden, rows = int(run.setting("n_hidden")), []
    for m in _superposed(run):
        total = sum(len(f) for _, f in m["factors"])
        inside = sum(len(f) for p, f in m["factors"] if not p.startswith("other"))
        if total and inside / total >= EFFICIENT:
            rows.append((m["density"], m["D"].sum()))
    if not rows:
        return Verdict(False, f"no model in superposition has >= {EFFICIENT:.0%} of its features in named polytopes")
    return Verdict(all(s >= FULL * m_hidden for _, s in rows),
                   ", ".join(f"1/(1-S) {1 / d:.3g}: sum D_i {s:.2f}" for d, s in rows) + f" (m = {m_hidden})")


_POLY = ", ".join(f"{p} {f:.3g}" for f, p, *_ in POLYTOPES[1:])
CLAIMS = (
    Claim("dense: about one dimension per feature (m features, orthogonal)",
          "\"Unexpectedly, we find that the number of dimensions per feature is 'sticky' at 1 and 1/2.\" (1: the dense "
          "end of the paper's curve)", SOURCE,
          "> 0.9: m unit features give exactly 1; below 0.9 the dense model already shares dimensions", dense),
    Claim("sparsest: well under half a dimension per feature (superposition)",
          "\"We've seen that superposition can allow a model to represent extra features, and that the number of extra "
          "features increases as we increase sparsity.\"", f"{PAPER}, section 'The Geometry of Superposition'",
          "under half the dense value: read off the paper's figure (its curve falls below the 1/2 plateau at the sparsest "
          "densities), not its text", sparsest),
    Claim(f"D* sticks at 1/2: within {PLATEAU_TOL} of 1/2 at consecutive densities spanning a factor >= "
          f"{PLATEAU_SPAN} in 1/(1-S)", "\"Surprisingly, we find that this graph is 'sticky' at 1 and 1/2.\" ... \"the model "
          "preferentially uses them over a wide range of the sparsity regime\"",
          SOURCE, f"{PLATEAU_TOL}: a tenth of the 1/2 level; a factor {PLATEAU_SPAN}: more than one step of the "
          "24-density grid (1.35), so one point passing through 1/2 is not a plateau", plateau),
    Claim(f"D_i cluster: more than {MOST:.0%} of the represented features of the models in superposition (D* < "
          f"{SUPERPOSED}) lie within {NEAR} of 1, {_POLY} or 0",
          "\"The feature dimensionalities cluster at certain fractions, so we draw lines for those.\" ... \"there are "
          "distinct lines corresponding to dimensionality of:\" 3/4 (tetrahedron), 2/3 (triangle), 1/2 (antipodal pair), "
          "2/5 (pentagon), 3/8 (square antiprism), and 0 (feature not learned) (the list as the article prints it; the "
          "markdown text garbles 2/5 and 3/8)", DIMENSIONALITY,
          f"within {NEAR}: half the gap 2/5 - 3/8, so near at most one fraction; more than half: a cluster holds most "
          "points (analysis/tegum.py)", clustered),
    Claim(f"tegum factors are the polytopes: more than {MOST:.0%} of the represented features (models in "
          f"superposition) sit in components of the |W_i . W_j| > {EDGE} graph that are a digon, triangle, "
          "tetrahedron, pentagon, square antiprism (size and every D_i) or a dedicated feature",
          "\"two subgraphs are disconnected if and only if they are in different tegum factors\" ... \"we should expect "
          "their dimensionality to actually correspond to the underlying factor uniform polytopes\"", STRUCTURES,
          f"edge > {EDGE}: below every dot product that holds a listed polytope together, above orthogonal factors' 0 "
          "(analysis/tegum.py)", named),
    Claim(f"where the packing is efficient (>= {EFFICIENT:.0%} of represented features in named factors) "
          f"sum_i D_i >= {FULL} m", "\"Empirically, it seems that the dimensionality of all features add up to the number "
          "of embedding dimensions when the features are 'packed efficiently' in some sense.\"", DIMENSIONALITY,
          f"{FULL} m: the tegum product of polytopes that fill every dimension gives exactly m", sum_near_m),
)


def check(run: Run):
    return evaluate(CLAIMS, run)


def figures(run: Run, formats=FORMATS, graphs: int = 3) -> list[Path]:
    return _clusters(run, formats) + _graphs(run, formats, graphs)


def _clusters(run: Run, formats) -> list[Path]:
    """`geometry_clusters`: every represented feature's D_i over 1/(1-S) (dots), D* (line), the fractions (dotted),
    each with the share of all represented features of the models in superposition near it."""
    ms = run.once(models)
    fig = Figure(figsize=(8.5, 5), layout="constrained")
    ax = fig.add_subplot()
    near = np.concatenate([m["D"][m["represented"]] for m in _superposed(run)] or [np.array([])])
    with matplotlib.rc_context(STYLE):
        for m in ms:
            D = m["D"][m["represented"]]
            ax.scatter(np.full(D.size, 1 / m["density"]), D, s=6, alpha=0.35, color="tab:blue", lw=0)
        ax.plot([1 / m["density"] for m in ms], [m["dims"] for m in ms], color="k", lw=1.5,
                label="D* = m / ||W||_F^2 (dimensions per feature)")
        for fraction, polytope, *_ in POLYTOPES:
            share = (np.abs(near - fraction) <= NEAR).mean() if near.size else 0.0
            ax.axhline(fraction, color="0.5", lw=0.6, ls=":")
            ax.text(1 / ms[-1]["density"], fraction, f" {fraction:.3g} {polytope} "
                    f"({share:.0%})", fontsize=7, va="center")
        ax.set(xscale="log", xlabel="1/(1-S) (log scale)", ylabel="D_i (dots), D* (line)", ylim=(-0.03, 1.08))
        ax.legend(loc="lower left", fontsize=8)
        fig.suptitle(f"Feature dimensionality: each represented feature's D_i; dotted: the paper's fractions (share of "
                     f"the superposed models' represented features within {NEAR}). {title(run.table)}", fontsize=8)
    return save(fig, run.directory / "figures", "geometry_clusters", formats)


def _graphs(run: Run, formats, count: int) -> list[Path]:
    """`geometry_graph`: for `count` densities in superposition, each tegum factor drawn as its features on a small
    circle (colour: the polytope), edges where |W_i . W_j| > EDGE (components of more than BIG features: nodes only)."""
    ms = _superposed(run)
    if not ms:
        return []
    picks = [ms[k] for k in np.unique(np.linspace(0, len(ms) - 1, count).round().astype(int))]
    names = [p for _, p, *_ in POLYTOPES] + ["other"]
    palette = dict(zip(names, matplotlib.colormaps["tab10"].colors))
    fig = Figure(figsize=(4.6 * len(picks), 4.8), layout="constrained")
    with matplotlib.rc_context(STYLE):
        for c, m in enumerate(picks):
            ax = fig.add_subplot(1, len(picks), c + 1)
            side = int(np.ceil(np.sqrt(len(m["factors"]))))
            for k, (polytope, f) in enumerate(sorted(m["factors"], key=lambda pf: -len(pf[1]))):
                centre = np.array([k % side, -(k // side)], float)
                angle = 2 * np.pi * np.arange(len(f)) / len(f)
                xy = centre + 0.3 * np.stack([np.cos(angle), np.sin(angle)], axis=1) * (len(f) > 1)
                colour = palette[polytope if not polytope.startswith("other") else "other"]
                dots = np.abs(m["W"][:, f].T @ m["W"][:, f])
                if len(f) > BIG:  # a large component: its nodes only, named by size
                    ax.text(*centre, f"{len(f)}", ha="center", va="center", fontsize=7)
                    ax.scatter(*xy.T, s=2, color=colour, zorder=3)
                    continue
                for i in range(len(f)):
                    for j in range(i):
                        if dots[i, j] > EDGE:
                            ax.plot(*xy[[i, j]].T, color=colour, lw=0.4 + 1.2 * min(dots[i, j], 1), alpha=0.7)
                ax.scatter(*xy.T, s=10, color=colour, zorder=3)
            counts = Counter(p if not p.startswith("other") else "other" for p, _ in m["factors"])
            ax.set_title(f"1/(1-S) = {1 / m['density']:.3g}, D* = {m['dims']:.2f}\n"
                         + ", ".join(f"{v} {k}" for k, v in counts.most_common()), fontsize=8)
            ax.set(xticks=[], yticks=[], aspect="equal")
        handles = [matplotlib.lines.Line2D([], [], marker="o", ls="", color=palette[p], label=p) for p in names]
        fig.legend(handles=handles, loc="outside lower center", ncol=len(names), fontsize=7)
        fig.suptitle(f"Feature geometry: represented features (nodes) joined where |W_i . W_j| > {EDGE}; each "
                     f"connected component (tegum factor) drawn apart, coloured by its polytope. {title(run.table)}",
                     fontsize=8)
    return save(fig, run.directory / "figures", "geometry_graph", formats)
