"""The geometry checks (analysis/experiments/geometry.py) on hand-written runs (tests/test_checks.py: write): the
paper's picture passes every claim, and each doctoring fails the claim it breaks."""
import numpy as np
from scipy.linalg import block_diag  # each block in its own rows and columns

from analysis.experiments import geometry
from analysis.run import Run
from tests.analysis.experiments.test_claims import write
from tests.conftest import make_config

M, N = 12, 30
DENSITIES = [1.0, 0.3, 0.15, 0.05]


def pentagon() -> np.ndarray:
    t = 2 * np.pi * np.arange(5) / 5
    return np.stack([np.cos(t), np.sin(t)])


def padded(W: np.ndarray) -> np.ndarray:
    return np.concatenate([W, np.zeros((M, N - W.shape[1]))], axis=1)


DENSE = padded(np.eye(M))  # 12 dedicated features: D* = 1
DIGONS = padded(block_diag(*[np.array([[1.0, -1.0]])] * M))  # 12 digons: D* = 1/2
PENTAGONS = block_diag(*[pentagon()] * (M // 2))  # 6 pentagons, 30 features: D* = 2/5, sum D_i = 12
FIVE = padded(np.concatenate([block_diag(*[pentagon()] * 5), np.zeros((2, 25))]))  # 5 pentagons: 2 dimensions unused


def verdicts(tmp_path, weights):
    cfg = make_config(model={"n_features": N, "n_hidden": M}, density=DENSITIES)
    facts = geometry.check(Run(write(tmp_path, cfg, weights)))
    return [f.passed for f in facts]


def test_the_papers_picture_passes_every_claim(tmp_path):
    assert verdicts(tmp_path, [DENSE, DIGONS, DIGONS, PENTAGONS]) == [True] * 6


def test_one_point_at_one_half_is_no_plateau(tmp_path):
    assert verdicts(tmp_path, [DENSE, DIGONS, PENTAGONS, PENTAGONS]) == [True, True, False, True, True, True]


def test_polytopes_that_leave_dimensions_unused_fail_the_sum(tmp_path):
    assert verdicts(tmp_path, [DENSE, DIGONS, DIGONS, FIVE]) == [True, True, True, True, True, False]


def test_irregular_shapes_fail_the_clusters_and_the_polytopes(tmp_path):
    bent = PENTAGONS.copy()
    for k in range(M // 2):  # squash every pentagon: D_i off 2/5
        bent[2 * k + 1, 5 * k:5 * k + 5] *= 0.6
    bent_digons = DIGONS.copy()
    bent_digons[:, 1::2] = 0.7 * DIGONS[:, 1::2] + 0.3 * np.roll(DIGONS[:, 1::2], 1, axis=0)
    result = verdicts(tmp_path, [DENSE, bent_digons, bent_digons, bent])
    assert result[3:5] == [False, False]


def test_geometry_ci_sized(tmp_path):
    """Trained small (moved here from tests/test_paper.py's SMALL): the dense and sparsest facts hold; the cluster and
    polytope claims need the paper's size (docs/experiments/geometry.md), so here they only have to be measured."""
    from analysis.paper import reproduce

    small = ["model.n_features=60", "model.n_hidden=6", "density=[1.0,0.1,0.01]", "steps=4000", "batch_size=512",
             "exec.progress=false"]
    directory, facts = reproduce("geometry", small, root=tmp_path, progress=False)
    assert [f.passed for f in facts[:2]] == [True, True] and len(facts) == 6, [(f.claim, f.measured) for f in facts]
    assert {"geometry_clusters.png", "geometry_graph.png"} <= {p.name for p in (directory / "figures").glob("*.png")}
