"""The report's figure captions: every PNG the figures (analysis/figures/) and the experiments
(analysis/experiments/) save, by name, with what it shows and its units; analysis/report/page.py shows the PNGs of a
run's figures/ folder in this order, each with its caption (a name missing here shows as itself).
Tests: tests/analysis/report/test_captions.py (every name the code saves has one).
"""
from __future__ import annotations

FIGURES = {  # the PNGs plot_run draws first, in page order, then the experiments'
    "phase": "Phase of the extra feature: seeds averaged, best seed, the paper's and the optimal theory",
    "weights": "W^T W, b and ||W_i|| (coloured by superposition) of the lowest-loss seed per cell",
    "geometry": "Columns W_i of W in the plane (m = 2), lowest-loss seed per cell",
    "dims_per_feature": "Dimensions per feature m / ||W||_F^2 against 1/(1-S)",
    "dimensionality": "Feature dimensionality D_i of represented features",
    "loss_curves": "Training loss (importance-weighted MSE) against step, coloured by density; per-cell mean over seeds "
                   "when there are many models",
    "restarts": "Best loss of the first k seeds against k, and the share of seeds per configuration (analysis/restarts.py)",
    "sae_recovery": "SAEs: share of represented true features recovered (cos > 0.9) and MMCS, toy sparsity x L1 coefficient",
    "sae_recovery_topk": "TopK SAEs: share of represented true features recovered (cos > 0.9) and MMCS, toy sparsity x k",
    "sae_per_dim": "SAEs: recovered share (best coefficient or k) per toy density, L1 and TopK, each dictionary size",
    "sae_mmcs_size": "SAEs: MMCS between true features and atoms against dictionary size",
    "sae_atoms": "SAEs: one model's true features W_i beside its SAE's atoms, and their cosines",
    "diagnostics": "The five diagnostics of the lowest-loss seed per cell (W^T W, b, ||W_i||, superposition, W_i)",
    # the experiments' own figures (analysis/experiments/, `python -m analysis.paper NAME`)
    "adversarial": "Relative vulnerability (L'-L)/(L'_0-L_0) to the analytic L2 attack (norm 0.1 x the mean input "
                   "norm, worst feature; a ratio, 1 = the model without superposition) and features per dimension "
                   "||W||_F^2/m, both against feature density 1-S (log axis), lowest-loss seed per density",
    "collapse": "Correlated pairs collapsed onto (a+b)/sqrt(2) and distinct directions stored (counts) against feature "
                "density 1-S (log axis), the paper's regimes shaded; below, the lowest-loss model W_i at each density",
    "dynamics": "Each feature's dimensionality D_i (0 to 1; dotted: 0, 1/2, 1) over training steps (log axis), above "
                "the training loss (importance-weighted MSE), one column per seed, lowest final loss first",
    "geometry_clusters": "Every represented feature's dimensionality D_i (dots, 0 to 1) and D* = m/||W||_F^2 (line) "
                         "against 1/(1-S) (log axis); dotted: the paper's fractions, each with the share of features "
                         "near it",
    "geometry_graph": "Feature geometry graphs at a few densities: represented features (nodes) joined where "
                      "|W_i . W_j| is above the edge threshold, each connected component coloured by its polytope",
    "kgon_census": "k-gon census: per c, the share of SGD runs (0 to 1) in each phase against the number of training "
                   "samples T (log axis), beside the posterior's predicted share (n L + lambda log n)",
    "nonuniform_loss": "Exact expected loss of every fit against the relative density r of feature 0 (log-log), "
                       "coloured by geometry (pentagon, two digons, other), and the two branches' relative loss "
                       "difference (L pentagon - L two digons) / L two digons",
    "nonuniform_solutions": "Lowest-loss fit at each relative density r of feature 0 (feature 0 red, rotated onto "
                            "+x), W_i in the plane (m = 2); frame colour: its geometry",
    "privileged": "Per density 1-S: the lowest-loss seed's raw W (neurons x features, top) and per-neuron stacked "
                  "weights W_ji (bottom), coloured by each feature's superposition",
    "transformations": "The lowest-loss seed's 6 features as 3-D arrows at log-spaced training steps (colour: set; "
                       "title: stage), and each feature's D_i (0 to 1) over training steps (log axis) per seed",
    "seeds": "W_i in the plane of every seed of the blog's three models (point size: ||W_i||; colour: feature)",
    "sets": "W_i of the lowest-loss seed of every (n, correlation) x density cell, coloured by correlated set",
    "reproduced": "The five diagnostics of the lowest-loss seed of each of the blog's three models, per distribution",
    "neurons": "Per density 1-S: the lowest-loss seed's rescaled W1, W2^T and per-neuron stacked W1 bars",
}
