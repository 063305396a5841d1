"""The paper's basic results: linear and ReLU models over density (`basic`: n=20, m=5, importance 0.7^i; `basic_large`:
n=80, m=20, 0.9^i; docs/experiments/basic.md). Checks read the lowest-loss seed of each cell."""
from __future__ import annotations

from analysis.experiments.claims import FORMATS, PAPER, Claim, Preset, Verdict, evaluate
from analysis.run import Run

PRESETS = (Preset("basic", ("weights_linear", "weights_relu")), Preset("basic_large", ("weights_linear", "weights_relu")))
SOURCE = f"{PAPER}, section 'Demonstrating Superposition' > 'Basic Results'"
COUNTED = "a feature is represented when ||W_i|| > 0.5 (sweep/metrics.py: REPRESENTED_NORM): trained norms are near 0 or 1"


def _top_m(run: Run, models) -> list[bool]:
    """Per model: are exactly the m most important features (0..m-1) represented?"""
    table, m = run.table, int(run.setting("n_hidden"))
    represented = table[table["represented"]].groupby(["run", "model_id"])["feature"].apply(frozenset)
    return [represented.get((r, i), frozenset()) == frozenset(range(m)) for r, i in zip(models["run"], models["model_id"])]


def linear_top_m(run: Run) -> Verdict:
    ok = _top_m(run, run.best[run.best["model_kind"] == "linear"])
    return Verdict(all(ok), f"{sum(ok)}/{len(ok)} models", {"m": int(run.setting("n_hidden"))})


def _relu(run: Run):
    return run.best[run.best["model_kind"] == "relu"].sort_values("density", ascending=False)


def relu_dense(run: Run) -> Verdict:
    """"Behaves the same" as the linear model: the top m features, no others."""
    dense = _relu(run).iloc[:1]
    top = _top_m(run, dense)[0]
    return Verdict(top, f"{int(dense['n_represented'].iloc[0])} represented, {'' if top else 'not '}features 0..m-1",
                   {"m": int(run.setting("n_hidden"))})


def relu_sparse(run: Run) -> Verdict:
    m = int(run.setting("n_hidden"))
    sparse = _relu(run)[_relu(run)["density"] <= 0.1]["n_represented"].to_numpy()
    return Verdict(bool((sparse > m).all()), ",".join(map(str, sparse)), {"m": m})


CLAIMS = (
    Claim("linear model: exactly the top {m} features at every density",
          "\"the linear model always learns the top-m most important features, analogous to learning the top principal "
          "components\"", SOURCE, f"exactly features 0..m-1 represented; {COUNTED}", linear_top_m),
    Claim("ReLU, density 1: the top {m} features, no others (no superposition)",
          "\"The ReLU output model behaves the same on dense features (1-S=1.0)\"", SOURCE,
          f"exactly features 0..m-1 represented, as the linear model; {COUNTED}", relu_dense),
    Claim("ReLU, density <= 0.1: more than {m} features (superposition)",
          "\"as sparsity increases, we see superposition emerge. The model represents more features by having them not be "
          "orthogonal to each other.\"", SOURCE,
          f"more than m represented at every density <= 0.1 (S >= 0.9, where the paper's figure shows it); {COUNTED}",
          relu_sparse),
)


def check(run: Run):
    return evaluate(CLAIMS, run)


def figures(run: Run, formats=FORMATS):
    return []  # the generic figures (weights_linear, weights_relu) show it
