"""Fuzz the config layer: every out-of-range value gives one line naming its key, never a run."""
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from sweep.config import ConfigError
from tests.conftest import make_config

non_finite = st.sampled_from([math.nan, math.inf, -math.inf])
negative = st.floats(max_value=-1e-9, allow_nan=False, allow_infinity=False)


def nested(key: str, value):
    """'optim.lr', 3 -> {'optim': {'lr': 3}}"""
    for part in reversed(key.split(".")):
        value = {part: value}
    return value


BAD_VALUES = {
    "sparsity": st.one_of(st.floats(min_value=1.0, allow_nan=False), negative, non_finite),
    "density": st.one_of(st.floats(min_value=1.0 + 1e-9, allow_nan=False), st.floats(max_value=0.0, allow_nan=False), non_finite),
    "model.n_hidden": st.integers(max_value=0),
    "model.n_features": st.integers(max_value=0),
    "model.kind": st.text(min_size=1).filter(lambda s: s not in ("relu", "linear")),
    "batch_size": st.integers(max_value=0),
    "steps": st.integers(max_value=0),
    "seed": st.integers(max_value=-1),
    "importance.decay": st.one_of(negative, non_finite),
    "importance.relative": st.one_of(negative, non_finite),
    "optim.lr": st.one_of(st.floats(max_value=0.0, allow_nan=False), non_finite),
    "optim.weight_decay": st.one_of(negative, non_finite),
    "optim.b1": st.one_of(st.floats(min_value=1.0, allow_nan=False), negative),
    "optim.schedule": st.text(min_size=1).filter(lambda s: s not in ("constant", "cosine", "warmup_cosine")),
    "exec.log_every": st.integers(max_value=0),
}


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_any_bad_value_is_refused_with_its_key(data):
    key = data.draw(st.sampled_from(sorted(BAD_VALUES)))
    value = data.draw(BAD_VALUES[key])
    as_list = data.draw(st.booleans()) and key in ("sparsity", "density", "seed", "importance.decay", "optim.lr")
    overrides = nested(key, [0.5, value] if as_list and key in ("sparsity", "density") else [value] if as_list else value)
    try:
        make_config(**overrides)
    except ConfigError as error:
        message = str(error)
        assert message.startswith(key + "="), message
        assert "\n" not in message
    else:
        raise AssertionError(f"{key}={value!r} was accepted")
