"""The paper's basic results: linear and ReLU models over density (`basic`: n=20, m=5, importance 0.7^i; `basic_large`:
n=80, m=20, 0.9^i; docs/experiments/basic.md). Checks read the lowest-loss seed of each cell."""
from __future__ import annotations

from analysis.experiments.claims import FORMATS, PAPER, Claim, Preset, Verdict, evaluate
from analysis.run import Run

PRESETS = (Preset("basic", ("weights_linear", "weights_relu")), Preset("basic_large", ("weights_linear", "weights_relu")))
SOURCE = f"{PAPER}, section 'Demonstrating Superposition' (Basic Results)"
COUNTED = "a feature is represented when ||W_i|| > 0.5 (sweep/metrics.py: REPRESENTED_NORM): trained norms are near 0 or 1"


def linear_top_m(run: Run) -> Verdict:
    table, m = run.table, int(run.setting("n_hidden"))
    represented = table[table["represented"]].groupby(["run", "model_id"])["feature"].apply(frozenset)
    linear = run.best[run.best["model_kind"] == "linear"]
    ok = [represented.get((r, i), frozenset()) == frozenset(range(m)) for r, i in zip(linear["run"], linear["model_id"])]
    return Verdict(all(ok), f"{sum(ok)}/{len(ok)} models", {"m": m})


def _relu(run: Run):
    return run.best[run.best["model_kind"] == "relu"].sort_values("density", ascending=False)


def relu_dense(run: Run) -> Verdict:
    m, dense = int(run.setting("n_hidden")), int(_relu(run)["n_represented"].iloc[0])
    return Verdict(dense == m, f"{dense}", {"m": m})


def relu_sparse(run: Run) -> Verdict:
    m = int(run.setting("n_hidden"))
    sparse = _relu(run)[_relu(run)["density"] <= 0.1]["n_represented"].to_numpy()
    return Verdict(bool((sparse > m).all()), ",".join(map(str, sparse)), {"m": m})


CLAIMS = (
    Claim("linear model: exactly the top {m} features at every density",
          "paraphrase: the linear model learns the m most important features and ignores the rest, whatever the sparsity",
          SOURCE, f"exactly features 0..m-1 represented; {COUNTED}", linear_top_m),
    Claim("ReLU, density 1: {m} features (no superposition)",
          "paraphrase: with dense features the ReLU model, like the linear one, represents only the top m", SOURCE,
          f"exactly m represented; {COUNTED}", relu_dense),
    Claim("ReLU, density <= 0.1: more than {m} features (superposition)",
          "paraphrase: as features get sparser the ReLU model represents more features than it has dimensions", SOURCE,
          f"more than m represented at every density <= 0.1 (S >= 0.9, where the paper's figure shows it); {COUNTED}",
          relu_sparse),
)


def check(run: Run):
    return evaluate(CLAIMS, run)


def figures(run: Run, formats=FORMATS):
    return []  # the generic figures (weights_linear, weights_relu) show it
