"""Bad input: one clear line naming the key and the allowed range, non-zero exit, no output."""
import math

import pytest

from sweep.config import ConfigError
from tests.conftest import make_config, run_cli

BAD = [
    ({"sparsity": 1.0}, "sparsity=1.0 is outside the allowed range [0.0, 1.0)"),
    ({"sparsity": [0.5, -0.1]}, "sparsity=-0.1 is outside the allowed range [0.0, 1.0)"),
    ({"density": 0.0}, "density=0.0 is outside the allowed range (0.0, 1.0]"),
    ({"sparsity": 0.5, "density": 0.5}, "both set"),
    ({"model": {"n_hidden": 0}}, "model.n_hidden=0 must be an integer >= 1"),
    ({"model": {"n_features": 0}}, "model.n_features=0 must be an integer >= 1"),
    ({"model": {"kind": "tanh"}}, "model.kind='tanh' is not one of relu, linear"),
    ({"batch_size": 0}, "batch_size=0 must be an integer >= 1"),
    ({"steps": -5}, "steps=-5 must be an integer >= 1"),
    ({"importance": {"decay": math.nan}}, "importance.decay=nan must be finite"),
    ({"importance": {"decay": -0.9}}, "importance.decay=-0.9 is outside the allowed range"),
    ({"importance": {"kind": "constant", "value": math.inf}}, "importance.value=inf must be finite"),
    ({"importance": {"kind": "list", "values": [1.0, -1.0, 1.0, 1.0, 1.0]}}, "importance.values=-1.0 is outside"),
    ({"importance": {"kind": "list", "values": [1.0, 1.0]}}, "importance.values has 2 values; model.n_features=5"),
    ({"optim": {"lr": 0.0}}, "optim.lr=0.0 is outside the allowed range (0.0, inf]"),
    ({"seed": -1}, "seed=-1 must be an integer >= 0"),
    ({"data": {"distribution": "cauchy"}}, "data.distribution='cauchy' is not one of uniform, normal"),
    ({"exec": {"eval_rel_se": -0.1}}, "exec.eval_rel_se=-0.1 is outside the allowed range [0.0, inf]"),
    ({"exec": {"eval_rel_se": math.nan}}, "exec.eval_rel_se=nan must be finite"),
    ({"exec": {"eval_batches": 64, "eval_max_batches": 32}}, "exec.eval_max_batches=32 must be an integer >= 64"),
    ({"exec": {"eval_max_batches": 0}}, "exec.eval_max_batches=0 must be an integer >= 32"),
    # every other case docs/reliability.md lists (issue 16)
    ({"sparsity": math.inf}, "sparsity=inf must be finite"),
    ({"sparsity": [0.5, math.nan]}, "sparsity=nan must be finite"),
    ({"density": 1.5}, "density=1.5 is outside the allowed range (0.0, 1.0]"),
    ({"data": {"rng": "mersenne"}}, "data.rng='mersenne' is not one of fast, threefry"),
    ({"importance": {"kind": "zipf"}}, "importance.kind='zipf' is not one of constant, geometric, list, extra"),
    ({"optim": {"schedule": "linear"}}, "optim.schedule='linear' is not one of constant, cosine, warmup_cosine"),
    ({"exec": {"log_every": 0}}, "exec.log_every=0 must be an integer >= 1"),
    ({"exec": {"eval_batches": 0}}, "exec.eval_batches=0 must be an integer >= 1"),
    ({"exec": {"n_chunks": 0}}, "exec.n_chunks=0 must be an integer >= 1"),
    ({"importance": {"kind": "constant", "value": -1.0}}, "importance.value=-1.0 is outside the allowed range [0.0, inf]"),
    ({"importance": {"kind": "extra", "relative": [1.0, -2.0]}}, "importance.relative=-2.0 is outside the allowed range"),
    ({"importance": {"relative": math.nan}}, "importance.relative=nan must be finite"),
    ({"importance": {"kind": "list", "values": [1.0, 1.0, math.inf, 1.0, 1.0]}}, "importance.values=inf must be finite"),
    ({"data": {"feature_sparsity": [0.5, 0.5]}}, "data.feature_sparsity has 2 values; model.n_features=5 needs that many"),
    ({"data": {"feature_sparsity": [0.5, 0.5, 1.0, 0.5, 0.5]}}, "data.feature_sparsity=1.0 is outside the allowed range"),
    ({"data": {"feature_sparsity": [0.5] * 5}, "sparsity": 0.5}, "data.feature_sparsity replaces sparsity/density"),
    ({"optim": {"lr": -1e-3}}, "optim.lr=-0.001 is outside the allowed range (0.0, inf]"),
    ({"optim": {"weight_decay": -0.01}}, "optim.weight_decay=-0.01 is outside the allowed range [0.0, inf]"),
    ({"optim": {"b1": 1.0}}, "optim.b1=1.0 is outside the allowed range [0.0, 1.0)"),
    ({"optim": {"b2": -0.1}}, "optim.b2=-0.1 is outside the allowed range [0.0, 1.0)"),
    ({"optim": {"eps": 0.0}}, "optim.eps=0.0 is outside the allowed range (0.0, inf]"),
    ({"optim": {"schedule": "warmup_cosine", "warmup_steps": 11}, "steps": 10},
     "optim.warmup_steps=11 is outside the allowed range [0, 10]"),
    ({"seed": []}, "seed is an empty list; give at least one value"),
    ({"sparsity": []}, "sparsity is an empty list; give at least one value"),
    ({"optim": {"lr": []}}, "optim.lr is an empty list; give at least one value"),
    ({"importance": {"kind": "extra"}, "model": {"n_features": 1}}, "importance.kind=extra needs model.n_features >= 2"),
    # model.kind=abs and data.distribution=signed_uniform (issue 11, docs/experiments/computation.md)
    ({"model": {"kind": "absolute"}}, "model.kind='absolute' is not one of relu, linear, privileged, abs"),
    ({"data": {"distribution": "signed"}}, "data.distribution='signed' is not one of uniform, normal, signed_uniform"),
    ({"model": {"kind": "abs"}}, "model.kind=abs computes |x| and needs signed features: set data.distribution=signed_uniform"),
    ({"exec": {"snapshots": -1}}, "exec.snapshots=-1 must be an integer >= 0"),
    ({"exec": {"snapshots": 11}, "steps": 10}, "exec.snapshots=11 is outside the allowed range [0, steps=10]"),
]


@pytest.mark.parametrize("overrides,message", BAD, ids=[str(b[0]) for b in BAD])
def test_bad_config_is_refused_with_a_message_naming_the_key(overrides, message):
    with pytest.raises(ConfigError) as error:
        make_config(**overrides)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "args,key",
    [
        (["sparsity=1.5"], "sparsity=1.5 is outside the allowed range [0.0, 1.0)"),
        (["model.n_hidden=0"], "model.n_hidden=0"),
        (["model.kind=quadratic"], "model.kind='quadratic'"),
        (["importance.decay=-1"], "importance.decay=-1"),
        (["batch_size=0"], "batch_size=0"),
        (["model.kind=abs"], "model.kind=abs computes |x| and needs signed features"),
    ],
)
def test_cli_exits_non_zero_with_one_line_and_writes_nothing(tmp_path, args, key):
    assert_one_line_exit_2_nothing_written(run_cli([*args, "steps=10"], cwd=tmp_path), tmp_path, key)


@pytest.mark.parametrize(
    "args,message",
    [
        (["foo=1"], "foo is not a config key"),
        (["model.n_hidden=abc"], "model.n_hidden='abc' has the wrong type: Value 'abc' of type 'str' could not be"),
        (["experiment=nope"], "experiment='nope' is not one of adversarial, basic, basic_large, "),
        (["-m", "seed=0,1", "model.n_hidden=1,abc"], "model.n_hidden='abc' has the wrong type"),
    ],
)
def test_hydras_own_errors_are_one_line_and_exit_2(tmp_path, args, message):
    """Unknown keys, wrong types, missing configs: Hydra's multi-line report becomes one line (sweep.run.cli)."""
    assert_one_line_exit_2_nothing_written(run_cli(args, cwd=tmp_path), tmp_path, message)


def assert_one_line_exit_2_nothing_written(result, tmp_path, key):
    assert result.returncode == 2
    error_lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert error_lines == [f"config error: {error_lines[0].removeprefix('config error: ')}"]
    assert key in error_lines[0]
    leftovers = list(tmp_path.rglob("*"))  # no file, and no dir either
    assert leftovers == [], leftovers
