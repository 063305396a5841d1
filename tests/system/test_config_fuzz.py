"""Fuzz the config layer: every out-of-range value gives one line naming its key, never a run."""
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from omegaconf import OmegaConf

from sweep.config import Config, ConfigError
from tests.conftest import ROOT, make_config

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


KEYS_OF_SECTIONS = {f"{section}.": set(value) for section, value in OmegaConf.to_container(OmegaConf.structured(Config)).items()
                    if isinstance(value, dict)}
KEYS = {"model.n_features": "int", "model.n_hidden": "int", "batch_size": "int", "steps": "int",
        "exec.log_every": "int", "exec.progress": "bool", "exec.plots": "bool", "optim.b1": "float", "optim.eps": "float"}
YAML_WORDS = ("true", "false", "yes", "no", "on", "off", "y", "n", "null", "nan", "inf")
NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)


def not_a(kind: str):
    """Override values Hydra's grammar reads as strings that cannot be converted to `kind`."""
    words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=1, max_size=8)
    if kind == "bool":
        return words.filter(lambda w: w not in YAML_WORDS)
    return words.filter(lambda w: w not in ("true", "false", "null", "nan", "inf"))


@pytest.fixture(scope="module")
def compose():
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(ROOT / "conf"), version_base="1.3"):
        yield lambda overrides: compose("config", overrides=overrides)


def hydra_error(compose, overrides) -> str:
    from hydra.errors import CompactHydraException

    from sweep.run import hydra_error_message

    try:
        compose(overrides)
    except (CompactHydraException, ValueError) as error:  # what sweep.run.cli turns into one line
        return hydra_error_message(error)
    raise AssertionError(f"{overrides} was accepted")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_hydra_rejections_are_one_line_naming_the_key(compose, data):
    """Unknown keys, values of the wrong type, missing experiments and unparsable overrides: one line each
    (what `python -m sweep.run` prints after `config error: `), naming what was wrong."""
    case = data.draw(st.sampled_from(["unknown key", "wrong type", "experiment", "syntax"]))
    if case == "unknown key":
        section = data.draw(st.sampled_from(["", "model.", "optim.", "exec.", "data."]))
        key = section + data.draw(NAME.filter(lambda k: k not in ("kind", "lr", "seed", "steps", "sparsity")))
        key_known = key in {"seed", "steps", "sparsity", "density", "batch_size", "model", "data", "importance",
                            "optim", "exec", "experiment"} or key.split(".")[-1] in KEYS_OF_SECTIONS.get(section, ())
        if key_known:
            return
        message, expected = hydra_error(compose, [f"{key}=1"]), f"{key} is not a config key"
    elif case == "wrong type":
        key = data.draw(st.sampled_from(sorted(KEYS)))
        value = data.draw(not_a(KEYS[key]))
        message, expected = hydra_error(compose, [f"{key}={value}"]), f"{key}={value!r} has the wrong type: "
    elif case == "experiment":
        # not a YAML keyword: `experiment=false` is Hydra's own ValueError, one line without the key
        name = data.draw(NAME.filter(lambda n: n not in YAML_WORDS and not (ROOT / "conf" / "experiment" / f"{n}.yaml").exists()))
        message, expected = hydra_error(compose, [f"experiment={name}"]), f"experiment={name!r} is not one of "
    else:
        override = data.draw(st.sampled_from(["sparsity=[0,", "seed=(", "steps", "model.n_hidden=[1,2", "seed=0,,1"]))
        message, expected = hydra_error(compose, [override]), f"cannot parse {override!r}: "
    assert message.startswith(expected), message
    assert "\n" not in message
