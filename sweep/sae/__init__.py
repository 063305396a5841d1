"""Sparse autoencoders (SAEs) on toy activations: a second stage on a finished run, or on synthetic data.

    config.py     SAEConfig / SyntheticConfig and their one-line checks (conf/sae.yaml)
    model.py      ONE SAE: init, encode (L1: ReLU; TopK), loss, the Adam step with unit-norm decoder columns
    source.py     where activations come from: each toy model's own data law (h = W x, or ReLU(W x) for a hidden
                  ReLU), or Sharkey-style synthetic directions; the true features of each
    train.py      the SAE grid (sources x SAE seeds x coefficients) vmapped in one program per dictionary size
    score.py      scores against the true features: MMCS, recovered share, dead/dense latents, L0, FVE, MSE
    stage.py      a stage on a run (each run of a multirun) or synthetic sources: the files it writes, reuse
    __main__.py   `python -m sweep.sae run=PATH sae.dict_size=[4,8] sae.l1=[0.01,0.1]` (Hydra, conf/sae.yaml)

The engine's guarantees hold: every SAE trains exactly as if alone (its batches depend on its source and SAE seed, its
init on its seed and dictionary size; nothing reduces across SAEs), checkpoints resume, bad keys fail in one line.
Docs: docs/sae.md.
"""
