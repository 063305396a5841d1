"""Scores against the truth on hand-made dictionaries whose answers are known."""
import numpy as np
import pandas as pd

from sweep.sae import score
from sweep.sae.source import Sources

F = np.array([[1.0, 0.0, 0.6], [0.0, 2.0, 0.8]])  # 3 true features in 2 dims (feature 1 has norm 2)


def sources(represented=(True, True, True)):
    return Sources(F[None].astype(np.float32), np.full((1, 3), 0.1, np.float32), np.array([represented]),
                   np.zeros(1, np.uint32), np.zeros(1, np.uint32), pd.DataFrame({"model_id": [0]}))


def result(atoms, fire):
    """One source, one seed, one coefficient, with these atoms (d, L) and fire rates (L,)."""
    L = atoms.shape[1]
    return {"params": {"W_dec": atoms[None, None]}, "seeds": [0], "coeffs": [0.1], "fire_rate": fire[None, None],
            **{name: np.full((1, 1), v) for name, v in (("l0", 1.5), ("fve", 0.9), ("mse", 0.01), ("loss", 0.02))},
            "L": L}


def test_exact_atoms_score_one_and_orthogonal_halves_score_their_cosine():
    exact = result(np.array([[0.6, 1.0, 0.0, 0.0], [0.8, 0.0, -1.0, 0.0]]), np.array([0.2, 0.3, 0.6, 0.0]))
    row = score.scores(sources(), exact, "l1", 4).iloc[0]
    # feature 1 (0, 2) has cosine -1 with atom 2 and 0.8 with atom 0: its best is 0.8, below the bar
    assert np.isclose(row["mmcs"], (1 + 0.8 + 1) / 3) and np.isclose(row["recovered"], 2 / 3)
    assert row["dead"] == 0.25 and row["dense"] == 0.25 and row["n_true"] == 3
    feats = score.features(sources(), exact, "l1", 4)
    assert feats["best_latent"].tolist() == [1, 0, 0] and np.allclose(feats["best_cos"], [1, 0.8, 1])
    assert feats["latents_above"].tolist() == [1, 0, 1]  # atom 0 holds feature 2 and is feature 1's best (absorbs)


def test_only_represented_features_count():
    atoms = np.array([[1.0], [0.0]])
    row = score.scores(sources((True, False, False)), result(atoms, np.array([0.5])), "l1", 1).iloc[0]
    assert row["mmcs"] == 1.0 and row["recovered"] == 1.0 and row["n_true"] == 1
    none = score.scores(sources((False, False, False)), result(atoms, np.array([0.5])), "l1", 1).iloc[0]
    assert np.isnan(none["mmcs"]) and none["recovered"] == 0.0


def test_each_sae_of_a_grid_gets_its_own_row_in_order():
    """Two seeds x two coefficients of one source: rows in (seed, coefficient) order, each with its own scores."""
    good, bad = np.array([[0.6, 1.0, 0.0], [0.8, 0.0, 1.0]]), np.array([[0.0, -1.0, 0.0], [-1.0, 0.0, 1.0]])
    atoms = np.stack([np.stack([good, bad]), np.stack([bad, good])])  # (seeds, coefficients, d, L)
    fire = np.array([[[0.1, 0.2, 0.0], [0.6, 0.7, 0.0]], [[0.0, 0.0, 0.0], [0.9, 0.1, 0.2]]])
    result = {"params": {"W_dec": atoms}, "seeds": [0, 5], "coeffs": [0.1, 0.3], "fire_rate": fire,
              **{name: np.arange(4.0).reshape(2, 2) for name in ("l0", "fve", "mse", "loss")}}
    rows = score.scores(sources(), result, "l1", 3)
    assert rows["sae_seed"].tolist() == [0, 0, 5, 5] and rows["coeff"].tolist() == [0.1, 0.3, 0.1, 0.3]
    assert rows["mmcs"].round(6).tolist() == [1.0, round((0 + 1 + 0.8) / 3, 6), round((0 + 1 + 0.8) / 3, 6), 1.0]
    assert rows["dead"].round(6).tolist() == [round(1 / 3, 6), round(1 / 3, 6), 1.0, 0.0]
    assert rows["dense"].round(6).tolist() == [0.0, round(2 / 3, 6), 0.0, round(1 / 3, 6)]
    assert rows["l0"].tolist() == [0.0, 1.0, 2.0, 3.0]
    feats = score.features(sources(), result, "l1", 3)
    assert len(feats) == 12 and feats["best_latent"].tolist()[:3] == [1, 2, 0]
