"""The engine's dimension letters, declared once, and the array types written with them (jaxtyping).

    G   models in a stack ("*G": any number of leading stack axes, none for one model)
    B   batch rows
    n   features
    m   hidden dimensions

Signatures in sweep/ import these under `typing.TYPE_CHECKING` (no import cost at run time; shapes are
documentation, not checked at run time); tests/system/test_configs.py resolves every such hint.
"""
from __future__ import annotations

import jax
import numpy as np
from jaxtyping import Bool, Float

AnyArray = jax.Array | np.ndarray

Weights = Float[AnyArray, "*G m n"]  # W: column W_i embeds feature i
Bias = Float[AnyArray, "*G n"]
PerFeature = Float[AnyArray, "*G n"]  # a value per feature (density, importance, loss, norm, ...)
PerModel = Float[AnyArray, "*G"]  # a value per model (loss, dims per feature, ...)
PerPair = Float[AnyArray, "*G n n"]  # a value per pair of features (overlaps, angles)
FeatureMask = Bool[AnyArray, "*G n"]  # a flag per feature (represented)
Batch = Float[AnyArray, "B n"]  # features of one model's batch, rows are samples
BatchT = Float[AnyArray, "n B"]  # the same, features first (the trainer's layout)
