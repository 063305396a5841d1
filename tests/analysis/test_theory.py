"""Closed-form expected losses against Monte Carlo and hand calculations, and the theoretical phase facts."""
from __future__ import annotations

import jax
import numpy as np
import pytest

from analysis import theory, theory_paper
from analysis.config import TheoryConfig


def exact(W, b, density):
    with jax.enable_x64(True):
        return np.asarray(theory.feature_losses(np.asarray(W, np.float64), np.asarray(b, np.float64), density))


def monte_carlo(W, b, density, n_samples=1_000_000, seed=0):
    """Sample the data law directly (independent of the closed form): mean and standard error per feature."""
    rng = np.random.default_rng(seed)
    n = W.shape[1]
    x = np.where(rng.random((n_samples, n)) < density, rng.random((n_samples, n)), 0.0)
    squared = (x - np.maximum(x @ (W.T @ W) + b, 0.0)) ** 2
    return squared.mean(axis=0), squared.std(axis=0) / np.sqrt(n_samples)


@pytest.mark.parametrize("n, m", [(2, 1), (3, 2), (4, 2)])
def test_closed_form_matches_monte_carlo_for_random_models(n, m):
    rng = np.random.default_rng(n)
    for trial in range(3):
        W = rng.normal(size=(m, n))
        b = rng.normal(size=n) * 0.3
        density = rng.uniform(0.05, 1.0)
        mean, se = monte_carlo(W, b, density, seed=trial)
        np.testing.assert_array_less(np.abs(exact(W, b, density) - mean), 5 * se + 1e-12)


def test_closed_form_matches_monte_carlo_with_per_feature_densities():
    """sweep/exact.py (the engine's exact_loss) with one density per feature, as data.feature_sparsity trains
    (the nonuniform experiment ranks its restarts by it): n=5, m=2, feature 0 at a tenth or ten times the others'."""
    from sweep.exact import feature_losses

    rng = np.random.default_rng(5)
    for trial, density in enumerate([[0.005, 0.05, 0.05, 0.05, 0.05], [0.5, 0.05, 0.05, 0.05, 0.05]]):
        W, b = rng.normal(size=(2, 5)), rng.normal(size=5) * 0.3
        mean, se = monte_carlo(W, b, np.array(density), seed=trial)
        np.testing.assert_array_less(np.abs(feature_losses(W, b, np.array(density)) - mean), 5 * se + 1e-12)


def test_closed_form_matches_monte_carlo_for_each_candidate_optimum():
    """The losses the phase diagram compares are real expected losses of the models they describe."""
    for n, m in [(2, 1), (3, 2)]:
        solutions = theory.candidate_solutions(n, m, [0.05, 0.5], [0.5, 3.0], TheoryConfig(steps=150))
        for _, row in solutions.iterrows():
            mean, se = monte_carlo(row.W, row.b, row.density, n_samples=400_000)
            importance = theory.extra_importance(n, row.relative)
            mc_loss = float(np.mean(importance * mean))
            mc_se = float(np.sqrt(np.sum((importance * se) ** 2)) / n)
            assert abs(row.loss - mc_loss) < 5 * mc_se + 1e-12, (row.candidate, row.density, row.relative)


@pytest.mark.parametrize("density", [1.0, 0.3, 0.01])
def test_hand_computed_configurations(density):
    p = density
    # an ignored feature with its optimal bias E[x] = p/2 loses Var(x) = p/3 - p^2/4; a lone feature loses 0
    np.testing.assert_allclose(exact([[1.0, 0.0]], [0.0, p / 2], p), [0.0, p / 3 - p**2 / 4], atol=1e-12)
    np.testing.assert_allclose(theory.ignored_feature_loss(p), p / 3 - p**2 / 4)
    # antipodal pair W = [1, -1], b = 0: loss only when both are present, E[min(x, y)^2] = 1/6
    np.testing.assert_allclose(exact([[1.0, -1.0]], [0.0, 0.0], p), [p**2 / 6] * 2, atol=1e-12)
    # orthonormal features never interfere
    np.testing.assert_allclose(exact(np.eye(3), np.zeros(3), p), np.zeros(3), atol=1e-12)
    # a feature always off (bias -1, no weight) loses E[x^2] = p/3
    np.testing.assert_allclose(exact([[0.0, 1.0]], [-1.0, 0.0], p)[0], p / 3, atol=1e-12)


def test_tiny_couplings_are_continuous_across_the_cutoff():
    """Couplings below SMALL count as zero; just above it the 1/coupling terms must not lose precision.

    Above the cutoff the loss is smooth in the coupling, so the straight line through two small
    couplings must extrapolate to the zero-coupling loss; what remains is cancellation between terms
    divided by two couplings of ~1e-5: measured 4e-6 to 1.5e-4 relative here (numpy and XLA round
    differently, and it moves with the last bit of the coupling), under 1e-3. A cutoff 100x smaller
    would leave errors 1e4x larger and fail.
    """

    def loss(eps):
        W = np.eye(3)
        W[1:, 0] = eps  # both couplings of feature 0 (and one of features 1, 2) are ~eps
        return exact(W / np.linalg.norm(W, axis=0), [-0.01, 0.02, 0.0], 0.3)

    zero = loss(0.0)
    np.testing.assert_array_equal(loss(0.5 * theory.SMALL), zero)
    near, far = loss(1.5 * theory.SMALL), loss(3 * theory.SMALL)
    np.testing.assert_allclose(2 * near - far, zero, rtol=1e-3, atol=1e-10)
    assert np.abs(near - zero).max() > 1e-9  # the coupling does matter above the cutoff


def test_expected_loss_is_the_importance_weighted_mean_over_features():
    W, b = np.array([[1.0, -0.7]]), np.array([-0.05, 0.1])
    with jax.enable_x64(True):
        total = float(theory.expected_loss(W, b, 0.2, [1.0, 4.0]))
    assert total == pytest.approx(np.mean(np.array([1.0, 4.0]) * exact(W, b, 0.2)), rel=1e-12)


def test_pair_candidates_agree_across_shapes():
    """n=3's 'antipodal' (a pair plus a lone feature) is n=2's antipodal pair: same optimum, loss x 2/3."""
    density, relative = [0.02, 0.2], [0.4, 2.5]
    n2 = theory.candidate_solutions(2, 1, density, relative, TheoryConfig(steps=200))
    n3 = theory.candidate_solutions(3, 2, density, relative, TheoryConfig(steps=200))
    pair2 = n2[n2.candidate == "antipodal"]["loss"].to_numpy()
    pair3 = n3[n3.candidate == "antipodal"]["loss"].to_numpy()
    np.testing.assert_allclose(pair3, pair2 * 2 / 3, rtol=1e-9)


def test_optimised_antipodal_beats_the_hand_solution():
    """Optimising norms and biases can only improve on W = [1, -1], b = 0 (loss (1 + r) p^2 / 12)."""
    density, relative = np.array([0.05, 0.3, 0.8]), np.array([1.0, 1.0, 1.0])
    fitted = theory.candidate_solutions(2, 1, density, relative, TheoryConfig(steps=200))
    loss = fitted[fitted.candidate == "antipodal"]["loss"].to_numpy()
    hand = (1 + relative) * density**2 / 12
    assert np.all(loss < hand * (1 - 1e-4))
    assert loss[2] < 0.6 * hand[2]  # dense: unequal norms and biases help a lot


def test_phase_diagram_2_1_paper_facts():
    """n=2, m=1: dense -> the more important feature gets the dimension; sparse -> antipodal superposition.

    At r = 1 even the unoptimised antipodal pair (loss p^2/6 per feature) beats dropping a
    feature (p/3 - p^2/4) for p < 4/7, so p = 0.3 must already be superposition.
    """
    table = theory.phase_diagram(2, 1, [1.0, 0.3, 0.01], [0.1, 1.0, 10.0]).set_index(["density", "relative"])
    assert table.loc[(1.0, 0.1), "phase"] == "not_represented"
    assert table.loc[(1.0, 10.0), "phase"] == "dedicated"
    assert table.loc[(0.3, 1.0), "phase"] == "superposition"
    for relative in (0.1, 1.0, 10.0):
        assert table.loc[(0.01, relative), "phase"] == "superposition"
    # the winner really is the minimum of the candidate losses
    losses = table[[c for c in table.columns if c.startswith("loss_")]].to_numpy()
    np.testing.assert_allclose(table["loss"], losses.min(axis=1), rtol=1e-5)
    # dense and ignored: the closed form of that candidate
    assert table.loc[(1.0, 0.1), "loss"] == pytest.approx(0.1 * (1 / 3 - 1 / 4) / 2, rel=1e-9)


def test_phase_diagram_3_2_paper_facts():
    table = theory.phase_diagram(3, 2, [1.0, 0.02], [0.1, 0.3, 10.0]).set_index(["density", "relative"])
    assert table.loc[(1.0, 0.1), "phase"] == "not_represented"
    assert table.loc[(1.0, 10.0), "phase"] == "dedicated"
    assert table.loc[(0.02, 0.3), "phase"] == "superposition"
    # sparse: the two unit-importance features share a dimension antipodally rather than one being dropped
    assert table.loc[(0.02, 10.0), "candidate"] == "dedicated_antipodal"
    assert table.loc[(0.02, 10.0), "loss"] < table.loc[(0.02, 10.0), "loss_dedicated"] / 10


def test_unknown_shape_is_a_clear_error():
    with pytest.raises(ValueError, match="n_features=4, n_hidden=2"):
        theory.phase_diagram(4, 2, [0.5], [1.0])


# ----------------------------------------------------------------------------- the paper's diagram


@pytest.mark.parametrize("shape", [(2, 1), (3, 2)])
def test_optimal_theory_is_never_above_the_papers(shape):
    density, relative = np.geomspace(1, 0.01, 7), np.geomspace(0.1, 10, 7)
    optimal = theory.phase_diagram(*shape, density, relative, theory=TheoryConfig(steps=200))
    paper = theory_paper.paper_phase_diagram(*shape, density, relative)
    assert np.all(optimal["loss"].to_numpy() <= paper["loss"].to_numpy() * (1 + 1e-9))
    # and it is strictly better somewhere: the two theories differ (docs/analysis.md)
    assert np.any(optimal["loss"].to_numpy() < paper["loss"].to_numpy() * 0.95)


def test_ties_at_relative_importance_1_are_broken_the_same_way_in_every_cell():
    """At r = 1 relabelling the two features leaves the loss unchanged, so an optimum and its mirror image
    tie (dense n=2: one feature kept, one dropped); every cell reports the tie and breaks it by PHASES order."""
    from analysis.phase import agreement

    density = np.geomspace(1, 0.75, 6)  # denser than both triple points: one feature kept, one dropped or weak
    for table in (theory.phase_diagram(2, 1, density, [1.0]), theory_paper.paper_phase_diagram(2, 1, density, [1.0])):
        assert set(table["phases"]) == {"not_represented|dedicated"}, table[["density", "phases"]]
        assert set(table["phase"]) == {"not_represented"}
    off = theory.phase_diagram(2, 1, density, [1.05])  # not tied: the extra feature's own phase only
    assert not off["phases"].str.contains("|", regex=False).any()
    cells = theory.phase_diagram(2, 1, density, [1.0]).rename(columns={"phase": "phase_optimal", "phases": "phases_optimal"})
    cells["phase"] = ["dedicated", "not_represented", "dedicated", "dedicated", "not_represented", "superposition"]
    assert agreement(cells, "optimal") == pytest.approx(5 / 6)


@pytest.mark.parametrize("shape", [(2, 1), (3, 2)])
def test_each_candidate_is_at_least_as_good_as_its_papers_fixed_weights_and_keeps_its_geometry(shape):
    """Each optimised candidate contains the paper's fixed weights of that name (unit norms, zero bias), so its
    optimum is no worse than their exact loss; antipodal pairs stay antiparallel, the n=3 triangle's two other
    features stay mirror images, and it is no worse than the equilateral triangle (unit norms, zero bias)."""
    density = np.array([0.9, 0.3, 0.05, 0.05])
    relative = np.array([0.5, 1.0, 1.0, 3.0])
    table = theory.candidate_solutions(*shape, density, relative, TheoryConfig(steps=300))
    importance = theory.extra_importance(shape[0], relative)
    for paper in theory_paper.PAPER_CANDIDATES[shape]:
        W = np.broadcast_to(np.asarray(paper.W, np.float64), (len(density), *np.shape(paper.W)))
        with jax.enable_x64(True):
            fixed = np.asarray(theory.expected_loss(W, np.zeros((len(density), shape[0])), density, importance))
        fitted = table[table["candidate"] == paper.name]["loss"].to_numpy()
        assert np.all(fitted <= fixed + 1e-9), (paper.name, fitted, fixed)
    pairs = {"antipodal": (0, 1) if shape == (2, 1) else (1, 2), "dedicated_antipodal": (0, 1)}
    for name, (i, j) in pairs.items():
        for W in table[table["candidate"] == name]["W"]:
            if np.linalg.norm(W[:, i]) > 1e-3 and np.linalg.norm(W[:, j]) > 1e-3:
                assert W[:, i] @ W[:, j] < 0, (name, W)
    if shape == (3, 2):
        triangle = table[table["candidate"] == "triangle"]
        for W in triangle["W"]:
            np.testing.assert_allclose(W[0, 0], -W[0, 1], atol=1e-9)  # mirror images in the first coordinate
            np.testing.assert_allclose(W[1, 0], W[1, 1], atol=1e-9)
        angles = np.radians([90, 210, 330])
        W = np.broadcast_to(np.stack([np.cos(angles), np.sin(angles)]), (len(density), 2, 3))
        with jax.enable_x64(True):
            equilateral = np.asarray(theory.expected_loss(W, np.zeros((len(density), 3)), density, importance))
        assert np.all(triangle["loss"].to_numpy() <= equilateral + 1e-9)


def test_relaxation_finds_the_asymmetric_optimum_a_trained_seed_found():
    """docs/analysis.md: at n=3, density 0.889, relative importance 1.061 a trained seed beat the best candidate
    (0.0327770) with an asymmetric configuration (0.0327721); relaxing every parameter from perturbed copies goes
    below it, and never loses to the candidate it starts from."""
    density, relative = np.geomspace(1, 0.01, 40)[1], np.geomspace(0.1, 10, 40)[20]  # the preset's cell (0.8886, 1.0608)
    fixed = theory.phase_diagram(3, 2, [density], [relative], theory=TheoryConfig(relax_steps=0)).iloc[0]
    relaxed = theory.phase_diagram(3, 2, [density], [relative]).iloc[0]
    assert fixed["loss"] == pytest.approx(0.0327770, abs=1e-6)
    assert relaxed["loss"] < 0.0327721  # below the trained seed (docs/analysis.md: 0.0327696)
    assert relaxed["loss"] <= fixed["loss"]


@pytest.mark.parametrize("shape", [(2, 1), (3, 2)])
def test_the_theory_tables_columns_say_what_their_weights_are(shape):
    """Every column derived from a cell's weights, recomputed by hand from those weights: the loss (the exact
    loss of W, b), the extra (last) feature's norm and superposition, the relaxation's gain over the chosen
    candidate; rows numbered 0..cells-1, one per candidate in candidate_solutions."""
    density, relative = np.array([0.9, 0.1]), np.array([0.5, 2.0])
    cells = theory.phase_diagram(*shape, density, relative, theory=TheoryConfig(steps=100, relax_steps=50))
    solutions = theory.candidate_solutions(*shape, density, relative, TheoryConfig(steps=100))
    assert list(cells.index) == list(range(4)) and list(solutions.index) == list(range(len(solutions)))
    for table in (cells, solutions):
        W, b = np.stack(table["W"]), np.stack(table["b"])
        importance = theory.extra_importance(shape[0], table["relative"].to_numpy())
        with jax.enable_x64(True):
            loss = np.asarray(theory.expected_loss(W, b, table["density"].to_numpy(), importance))
        np.testing.assert_allclose(table["loss"], loss, rtol=1e-7)
        extra = W[:, :, -1]
        norm = np.linalg.norm(extra, axis=1)
        np.testing.assert_allclose(table["extra_norm"], norm, atol=1e-12)
        others = W[:, :, :-1]
        hand = [sum((extra[c] / norm[c] @ others[c][:, j]) ** 2 for j in range(shape[0] - 1)) if norm[c] > 0 else 0.0
                for c in range(len(table))]
        np.testing.assert_allclose(table["extra_superposition"], hand, atol=1e-12)
    chosen = [row[f"loss_{row['candidate']}"] for _, row in cells.iterrows()]
    np.testing.assert_allclose(cells["relaxed_gain"], 1 - cells["loss"] / np.asarray(chosen), atol=1e-12)


def test_theory():
    np.testing.assert_allclose(theory.ignored_feature_loss(0.5), 0.5 / 3 - 0.0625)
    np.testing.assert_allclose(theory.extra_importance(3, [2.0, 0.5]), [[1, 1, 2], [1, 1, 0.5]])
    p, r = np.array([0.05, 0.5, 1.0]), np.array([0.5, 2.0, 1.0])
    solutions = theory.candidate_solutions(2, 1, p, r, TheoryConfig(steps=150)).set_index(["candidate", "density"])
    ignored, dedicated = solutions.loc["ignored"], solutions.loc["dedicated"]
    # closed forms (mean over the 2 features): the dropped feature loses importance x (p/3 - p^2/4)
    np.testing.assert_allclose(ignored["loss"], r * (p / 3 - p**2 / 4) / 2, rtol=1e-9)
    np.testing.assert_allclose(dedicated["loss"], (p / 3 - p**2 / 4) / 2, rtol=1e-9)
    np.testing.assert_allclose(np.stack(ignored["b"]), np.stack([[0, q / 2] for q in p]))
    assert (ignored["extra_norm"] == 0).all() and (dedicated["extra_norm"] == 1).all()
    antipodal = solutions.loc["antipodal"]
    assert (antipodal["loss"] <= (1 + r) * p**2 / 6 / 2 + 1e-12).all()  # never worse than the paper's W = [1, -1]
    names3 = [c.name for c in theory.CANDIDATES[(3, 2)]]
    assert names3 == ["ignored", "dedicated", "dedicated_antipodal", "antipodal", "triangle"]
    sol3 = theory.candidate_solutions(3, 2, [0.3], [1.5], TheoryConfig(steps=150)).set_index("candidate")
    W = {name: np.asarray(sol3.loc[name, "W"]) for name in names3}
    np.testing.assert_allclose(W["ignored"], [[1, 0, 0], [0, 1, 0]])
    np.testing.assert_allclose(W["dedicated"], [[1, 0, 0], [0, 0, 1]])
    assert (sol3.loc["ignored", "extra_norm"], sol3.loc["dedicated", "extra_norm"]) == (0, 1)  # the extra feature is the last
    assert np.linalg.norm(W["dedicated_antipodal"][:, 2]) == pytest.approx(1)
    assert sol3.loc["dedicated_antipodal", "extra_superposition"] == 0
    assert sol3.loc["antipodal", "extra_superposition"] > 0.9 and np.linalg.norm(W["antipodal"][:, 0]) == pytest.approx(1)
    np.testing.assert_allclose(sol3.loc["dedicated", "loss"], (0.3 / 3 - 0.09 / 4) / 3, rtol=1e-9)
    np.testing.assert_allclose(sol3.loc["ignored", "loss"], 1.5 * (0.3 / 3 - 0.09 / 4) / 3, rtol=1e-9)
    with pytest.raises(ValueError, match="n_features=4"):
        theory.candidate_solutions(4, 2, [0.5], [1.0])
    # dense, r = 0.1: dropping the extra feature (0.1 x 1/12 / 2) beats dedicating to it (1/12 / 2) and the pair (1.1/12 / 2)
    cell = theory.phase_diagram(2, 1, [1.0], [0.1], theory=TheoryConfig(steps=50, relax_steps=0)).iloc[0]
    assert cell["candidate"] == "ignored" and cell["phase"] == "not_represented"
    assert (cell["extra_norm"], cell["extra_superposition"]) == (0.0, 0.0) and cell["loss"] == pytest.approx(0.1 / 24)
    pair = theory.phase_diagram(2, 1, [0.2], [3.0], theory=TheoryConfig(steps=100, relax_steps=0)).iloc[0]
    (w0, w1), = pair["W"]  # m = 1: ||W_extra|| = |w1|, its superposition (W_extra_hat . W_0)^2 = w0^2
    assert pair["candidate"] == "antipodal" and abs(abs(w0) - abs(w1)) > 0.03
    assert pair["extra_norm"] == pytest.approx(abs(w1)) and pair["extra_superposition"] == pytest.approx(w0**2)
    # the paper's diagram: closed forms at one cell, winner and ties by hand
    table = theory_paper.paper_phase_diagram(2, 1, [0.5], [1.0, 3.0])
    q = 0.5 / 3 - 0.0625
    np.testing.assert_allclose(table["loss_ignored"], [q / 2, 3 * q / 2])
    np.testing.assert_allclose(table["loss_antipodal"], [2 * 0.25 / 6 / 2, 4 * 0.25 / 6 / 2])
    np.testing.assert_allclose(table["loss_dedicated"], [q / 2, q / 2])
    assert table["candidate"].tolist() == ["antipodal", "dedicated"]  # r = 3: q/2 = 0.052 < 4 x 0.25/6/2 = 0.083
    assert table["phase"].tolist() == ["superposition", "dedicated"]
