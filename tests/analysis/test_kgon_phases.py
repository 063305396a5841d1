"""analysis/kgon_phases.py: classifying trained models into k-gons, and the posterior's prediction over T."""
import numpy as np
import pytest

from analysis.kgon import kgon_optimum, optimum_params
from analysis.kgon_phases import bayes_shares, candidates, classify, crossing, kgon_radius, label, phase_theory


def placed(k, c, plus, rng, turn=0.0, jitter=0.0):
    """The exact k-gon optimum with its features shuffled among the c, rotated by `turn`, norms and angles jittered."""
    W, b = (np.asarray(a) for a in optimum_params(kgon_optimum(k, c, plus)))
    rot = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]])
    W = rot @ W * (1 + jitter * rng.uniform(-1, 1, c))
    order = rng.permutation(c)
    return W[:, order], b[order]


@pytest.mark.parametrize("k, c, plus", [(4, 6, 0), (4, 6, 2), (5, 6, 1), (6, 6, 0), (5, 7, 2), (7, 7, 0), (3, 5, 0)])
def test_exact_kgons_are_classified_as_themselves_in_any_order_and_rotation(k, c, plus):
    rng = np.random.default_rng(k * 10 + c)
    for turn in (0.0, 1.0, 4.0):
        W, b = placed(k, c, plus, rng, turn, jitter=0.05)
        assert classify(W, b) == (k, plus)
    assert label(k, plus) == f"{k}-gon" + "+" * plus and label(0, 0) == "other"


def test_irregular_or_wrong_radius_shapes_are_other():
    rng = np.random.default_rng(0)
    W, b = placed(6, 6, 0, rng)
    theta = np.arctan2(W[1], W[0])
    bent = theta + np.where(np.arange(6) == 2, np.radians(20), 0)  # one gap 60 -> 80 degrees: 33% off
    assert classify(np.linalg.norm(W, axis=0) * np.stack([np.cos(bent), np.sin(bent)]), b) == (0, 0)
    assert classify(W * 1.3, b) == (0, 0)  # hexagon directions at 1.3 x its radius (a 8-gon's radius, not a 6-gon's)
    five = np.stack([np.cos(np.arange(5) * 2 * np.pi / 6), np.sin(np.arange(5) * 2 * np.pi / 6)])
    W5 = np.concatenate([kgon_radius(5) * five, np.zeros((2, 1))], axis=1)  # a hexagon missing one: one 120-degree gap
    assert classify(W5, b) == (0, 0)


def test_phase_theory_matches_the_doc_table():
    """docs/experiments/kgons.md: (loss, llc) of 5 (0.068744, 7), 5+ (0.061799, 8.5), 6 (0.048192, 8.5) at c = 6."""
    assert phase_theory(5, 6, 0) == pytest.approx((0.068744, 7.0), abs=1e-6)
    assert phase_theory(5, 6, 1) == pytest.approx((0.061799, 8.5), abs=1e-6)
    assert phase_theory(6, 6, 0) == pytest.approx((0.048192, 8.5), abs=1e-6)
    assert set(candidates(6)) == {"4-gon", "4-gon++", "5-gon", "5-gon+", "6-gon"}


def test_the_posterior_switches_where_the_free_energies_cross():
    """Two phases: the shares are a logistic of F_n(a) - F_n(b); they are equal at the crossing n*, which solves
    n* (L_a - L_b) = (lambda_b - lambda_a) log n*; below it a (higher loss, lower lambda) has most of the mass."""
    a, b = (0.068744, 7.0), (0.048192, 8.5)
    n_star = crossing(a, b)
    assert n_star * (a[0] - b[0]) == pytest.approx((b[1] - a[1]) * np.log(n_star), rel=1e-9)
    assert 400 < n_star < 500
    shares = bayes_shares({"a": a, "b": b}, [n_star / 2, n_star, 2 * n_star]).pivot(index="T", columns="phase",
                                                                                        values="share")
    np.testing.assert_allclose(shares.sum(axis=1), 1.0)
    assert shares["a"].iloc[0] > 0.9 and shares["a"].iloc[1] == pytest.approx(0.5) and shares["b"].iloc[2] > 0.99
