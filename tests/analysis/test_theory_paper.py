"""analysis/theory_paper.py: the paper's closed forms are the exact losses of their weights, and its phase boundaries
(n=2, m=1 and n=3, m=2) where the paper puts them."""
from __future__ import annotations

import numpy as np
import pytest

from analysis import theory, theory_paper


@pytest.mark.parametrize("shape", sorted(theory_paper.PAPER_CANDIDATES))
def test_paper_closed_forms_are_the_exact_losses_of_their_weights(shape):
    n = shape[0]
    for candidate in theory_paper.PAPER_CANDIDATES[shape]:
        for p in (1.0, 0.5, 0.03):
            for r in (0.2, 1.0, 7.0):
                W, b = candidate.weights(p)
                total = n * float(theory.expected_loss(W, b, p, theory.extra_importance(n, r)))
                assert total == pytest.approx(candidate.total_loss(p, r), rel=1e-12, abs=1e-15), (candidate.name, p, r)


def _transition(table, relative, column="phase"):
    """Density at which `column` changes along one relative importance (midpoint of the two grid cells)."""
    rows = table[np.isclose(table["relative"], relative)].sort_values("density")
    changes = np.flatnonzero(rows[column].to_numpy()[1:] != rows[column].to_numpy()[:-1])
    assert len(changes) == 1, rows[column].unique()
    d = rows["density"].to_numpy()
    return np.sqrt(d[changes[0]] * d[changes[0] + 1]), d[changes[0] + 1] / d[changes[0]]


def test_paper_boundaries_2_1():
    """Ignored | antipodal at density 4r/(2+5r) for r < 1, dedicated | antipodal at 4/(5+2r) for r > 1."""
    density = np.geomspace(0.01, 1, 2001)
    relative = [0.1, 0.3, 0.7, 1.4, 3.0, 10.0]
    table = theory_paper.paper_phase_diagram(2, 1, density, relative)
    ignored, dedicated = theory_paper.paper_boundaries(relative)
    for r, low, high in zip(relative, ignored, dedicated):
        found, step = _transition(table, r)
        assert found == pytest.approx(low if r < 1 else high, rel=step - 1), r
        above = table[np.isclose(table["relative"], r) & (table["density"] > found)]["phase"].unique()
        assert list(above) == ["not_represented" if r < 1 else "dedicated"]
    # the triple point: at r = 1 both boundaries meet at 4/7
    assert theory_paper.paper_boundaries(1.0) == pytest.approx((4 / 7, 4 / 7))
    at_one = theory_paper.paper_phase_diagram(2, 1, [4 / 7 * 1.01, 4 / 7 / 1.01], [1.0 / 1.01, 1.01])
    at_one = at_one.set_index(["density", "relative"])
    assert at_one.loc[(4 / 7 * 1.01, 1 / 1.01), "phase"] == "not_represented"
    assert at_one.loc[(4 / 7 * 1.01, 1.01), "phase"] == "dedicated"
    assert (at_one.xs(4 / 7 / 1.01, level="density")["phase"] == "superposition").all()


def test_paper_boundaries_3_2():
    """n=3, m=2: for r > 1 the two unit features go from one dropped to antipodal at density 4/7 (any r);
    for r < 1 the extra feature goes from ignored to antipodal at 4r/(2+5r), as for n=2."""
    density = np.geomspace(0.01, 1, 2001)
    table = theory_paper.paper_phase_diagram(3, 2, density, [0.2, 0.5, 2.0, 8.0])
    for r in (2.0, 8.0):
        found, step = _transition(table, r, "candidate")
        assert found == pytest.approx(4 / 7, rel=step - 1)
        assert set(table[np.isclose(table["relative"], r)]["phase"]) == {"dedicated"}
    for r in (0.2, 0.5):
        found, step = _transition(table, r)
        assert found == pytest.approx(4 * r / (2 + 5 * r), rel=step - 1)
