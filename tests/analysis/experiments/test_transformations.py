"""The geometric-transformations experiment (analysis/experiments/transformations.py): its stage reader on hand-built
weights, and the experiment CI-sized."""
import numpy as np
import pytest

from analysis.experiments.transformations import octahedron, principal_share, stage, stages_in_order
from analysis.paper import reproduce

ROTATION = np.linalg.qr(np.random.default_rng(0).normal(size=(3, 3)))[0]


def octa(order=(0, 1, 2, 3, 4, 5)) -> np.ndarray:
    """Features 0-2 on +e_1..3, features 3-5 on -e_1..3 (pairs across sets), rotated; columns permuted by `order`."""
    W = np.concatenate([np.eye(3), -np.eye(3)], axis=1)
    return (ROTATION @ W)[:, list(order)]


def test_the_octahedron_with_pairs_across_sets_is_recognised_in_any_rotation():
    assert octahedron(octa()) and stage(octa()) == "octahedron"
    assert octahedron(1.1 * octa())  # norms 1.1: within NORM_TOL


def test_pairs_within_a_set_or_bent_or_short_are_not_the_octahedron():
    assert not octahedron(octa((0, 3, 1, 2, 4, 5)))  # 0 and 1 (same set) antipodal, 3 and 4 too
    bent = octa()
    bent[:, 3] = ROTATION @ np.array([-0.8, 0.6, 0.0])  # feature 3 37 degrees off its partner's opposite
    assert not octahedron(bent)
    short = octa()
    short[:, 5] *= 0.5
    assert not octahedron(short)
    tilted = octa()
    tilted[:, [2, 5]] = ROTATION @ np.array([[0.5, -0.5], [0.0, 0.0], [np.sqrt(0.75), -np.sqrt(0.75)]])  # axes not orthogonal
    assert not octahedron(tilted)


def test_pca_like_and_other_stages():
    pca = np.zeros((3, 6))
    pca[:, [0, 3, 4]] = ROTATION  # three orthonormal columns, the rest zero: W W^T = I
    assert stage(pca) == "pca"
    assert stage(0.01 * octa()) == "other"  # the small initial weights


def test_stages_in_order_need_pca_first_and_the_octahedron_kept():
    assert stages_in_order(["other", "pca", "pca", "other", "octahedron", "octahedron"])
    assert not stages_in_order(["other", "other", "octahedron"])  # no PCA-like stage
    assert not stages_in_order(["other", "pca", "octahedron", "other", "octahedron"])  # left the octahedron
    assert not stages_in_order(["other", "pca", "pca"])
    assert not stages_in_order(["pca", "pca", "other", "octahedron"])  # PCA-like from the random start: not a stage


def test_transformations_ci_sized(tmp_path):
    directory, facts = reproduce("transformations", ["seed=[0,1,2,3]", "steps=3000", "exec.progress=false"],
                                 root=tmp_path, progress=False)
    assert len(facts) == 2 and (directory / "figures" / "transformations.png").exists()


def test_two_features_of_a_set_in_one_direction_are_pca_like_but_not_across_sets():
    W = np.random.default_rng(1).normal(size=(3, 6))
    W[:, 1] = W[:, 0]  # features 0 and 1 (set 1) share a direction
    assert stage(W) == "pca"
    W = np.random.default_rng(1).normal(size=(3, 6))
    W[:, 3] = W[:, 0]  # features 0 and 3 are of different sets
    assert stage(W) == "other"


def test_principal_share_reads_the_span_of_the_sets_sums():
    pca = np.zeros((3, 6))
    pca[0, :3] = pca[1, 3:] = 1 / np.sqrt(3)  # each set stored as its sum, the linear PCA solution's top two
    pca[2, 0], pca[2, 1] = 0.5, -0.5
    assert principal_share(2 * ROTATION @ pca) == pytest.approx(1.0)  # rotation and scale free
    assert principal_share(octa()) == pytest.approx(0.5)  # rows: the differences of the 3 antipodal pairs
    W = np.zeros((3, 6))
    W[:, 3:] = np.eye(3)
    assert principal_share(W) == pytest.approx(0.5)  # set 2 whole, set 1 not at all
