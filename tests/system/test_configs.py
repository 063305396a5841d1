"""Every preset composes through Hydra and validates in seconds (lightning-hydra-template's test_configs):
a broken conf/experiment/*.yaml fails here, not an hour into a slow run."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import get_class

from analysis.paper import EXPERIMENTS
from sweep.config import Config
from sweep.grid import build_grid
from sweep.run import validate
from tests.conftest import ROOT, make_config

CONF = ROOT / "conf"
PRESETS = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml"))
# (n_features, n_hidden, models in the preset's own grid) per preset, from the paper's figures
EXPECTED = {
    "intro": (5, 2, 24), "basic": (20, 5, 21), "basic_large": (80, 20, 21), "geometry": (400, 30, 24),
    "phase_n2": (2, 1, 16_000), "phase_n3": (3, 2, 16_000), "notebook_intro": (5, 2, 10),
    "notebook_sparsity": (100, 20, 20), "notebook_geometry": (200, 20, 20), "blog": (5, 2, 96),
    "correlated": (4, 2, 24), "correlated_collapse": (6, 2, 104), "correlated_bases": (20, 10, 12),
    "privileged": (10, 5, 448), "computation_demo": (3, 6, 8), "computation": (100, 40, 56),
    "dynamics": (400, 30, 4),
    "transformations": (6, 3, 16),
    "nonuniform": (5, 2, 32),
    "adversarial": (40, 10, 48),
    "kgons": (6, 2, 32), "kgon_census": (6, 2, 640), "llc": (4, 2, 8),  # Chen et al. 2023 (the first of 2 or 3 groups)
    "sae_toy": (20, 5, 15), "sae_toy_large": (100, 20, 15),  # issue 27: ours, not the paper's
}
# presets trained without weight decay: the k-gons are critical points of the undecayed loss (docs/experiments/kgons.md)
NO_WEIGHT_DECAY = {"kgons", "kgon_census", "llc"}
# presets with their own lr schedule (peak lr, schedule, warmup steps): computation's dense model reaches the best pair
# code only so (issue 22, docs/experiments/computation.md "Can training reach it?")
# (two peak lrs: the sparse densities train at 1e-3); the blog's cosine annealing (docs/experiments/blog.md)
SCHEDULED = {"computation": ([0.001, 0.05], "warmup_cosine", 500), "blog": (1e-3, "cosine", 0)}


def composed(overrides=(), hydra=False):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides), return_hydra_config=hydra)


def test_every_preset_is_known_and_reproducible():
    assert PRESETS == sorted(EXPECTED) == sorted(n for n, e in EXPERIMENTS.items() if e.preset.toy)  # no toy: sae_synthetic


@pytest.mark.parametrize("name", PRESETS)
def test_preset_composes_and_validates(name):
    config = validate(composed([f"experiment={name}"]))  # the gate `python -m sweep.run` uses
    assert isinstance(config, Config)
    grid = build_grid(config)
    assert (config.model.n_features, config.model.n_hidden, len(grid)) == EXPECTED[name]
    assert config.steps == 10_000 and config.batch_size == 1024  # the notebook's training
    optim = (list(config.optim.lr) if not isinstance(config.optim.lr, float) else config.optim.lr, config.optim.schedule,
             config.optim.warmup_steps)
    assert optim == SCHEDULED.get(name, (1e-3, "constant", 0))
    assert config.optim.weight_decay == (0.0 if name in NO_WEIGHT_DECAY else 0.01)


def test_default_config_and_callback():
    cfg = composed(hydra=True)
    assert cfg.hydra.sweeper._target_.endswith("FusedSweeper")
    assert get_class(cfg.hydra.callbacks.figures._target_).__name__ == "DrawFigures"
    assert Path(cfg.hydra.run.dir).name == "default"


def test_run_names_ignore_exactly_the_keys_that_do_not_change_results():
    """The YAML's exclude_keys is the Python list (one definition), and a presentation key leaves the run dir alone."""
    from sweep.identity import PLACEMENT_KEYS, PRESENTATION_KEYS

    cfg = composed(hydra=True)
    assert list(cfg.hydra.job.config.override_dirname.exclude_keys) == [*PRESENTATION_KEYS, *PLACEMENT_KEYS]
    quiet = composed(["seed=3", "exec.progress=false", "exec.checkpoint_every=7"], hydra=True)
    assert Path(quiet.hydra.run.dir).name == Path(composed(["seed=3"], hydra=True).hydra.run.dir).name != "default"


def test_engine_never_imports_the_analysis():
    """Dependencies point one way: analysis/ reads what sweep/ wrote; the engine and plugin import no analysis."""
    import ast

    offenders = []
    for path in [*(ROOT / "sweep").rglob("*.py"), *(ROOT / "hydra_plugins").rglob("*.py")]:  # sweep/sae/ too
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
                [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] == "analysis"]
    assert not offenders, offenders


def test_shape_hints_name_the_declared_letters():
    """Every array hint in the engine's public signatures resolves to a type of sweep/shapes.py."""
    import inspect
    import typing

    import sweep.shapes
    from sweep import data, exact, kinds, metrics, train

    functions = [kinds.Kind.forward, kinds.Kind.loss, kinds.Kind.target, kinds.importance_weighted_mse_t,
                 exact.feature_losses, exact.expected_loss, exact.model_losses,
                 data.sample_features, metrics.feature_norms, metrics.overlaps, metrics.superposition,
                 metrics.interference, metrics.pairwise_angles, metrics.dimensionality, metrics.dimensionality_sum,
                 metrics.dimensions_per_feature, metrics.represented, train.Trainer.loss, train.Trainer.model_step]
    for function in functions:
        module = inspect.getmodule(function)
        hints = typing.get_type_hints(function, {**vars(module), **vars(sweep.shapes)})
        arrays = [h for h in hints.values() if "jaxtyping" in repr(h)]
        assert arrays, function.__qualname__
        assert all(any(f"'{letters}'" in repr(h) for letters in ("*G m n", "*G n", "*G n n", "*G", "B n", "n B"))
                   for h in arrays)


def test_the_density_axis_is_converted_once_at_the_config_boundary():
    """sparsity, density and data.feature_sparsity become densities in Config.densities() (issue 14); the grid
    sees only those: the same densities give the same data streams and rows, whichever key was used."""
    given = {
        "sparsity": make_config(sparsity=[0.0, 0.9, 0.99, 0.001]),
        "density": make_config(density=[1.0, 0.1, 0.01, 0.999]),
    }
    assert given["sparsity"].densities() == [1.0, 0.1, 0.01, 0.999]  # 12 significant digits (issue 24): as written
    assert given["density"].densities() == [1.0, 0.1, 0.01, 0.999]
    assert make_config().densities() == [1.0, 0.3, 0.2, 0.1, 0.03, 0.01]  # the default axis
    per_feature = make_config(model={"n_features": 3, "n_hidden": 2}, data={"feature_sparsity": [0.0, 0.5, 0.75]})
    assert per_feature.densities() == [(1.0, 0.5, 0.25)]
    grids = {key: build_grid(cfg) for key, cfg in given.items()}
    # 1 - 0.001 is 0.999 as the canonical (10-digit) key the streams are hashed from
    np.testing.assert_array_equal(grids["sparsity"].data_stream, grids["density"].data_stream)
    np.testing.assert_array_equal(grids["sparsity"].stream, grids["density"].stream)
    np.testing.assert_allclose(grids["sparsity"].density, grids["density"].density)
    for grid in grids.values():  # both columns shown, sparsity as the user would write it
        assert grid.coords["sparsity"].tolist() == [0.0, 0.9, 0.99, 0.001]  # not 1 - (1 - 0.001)
        np.testing.assert_allclose(grid.coords["density"], [1.0, 0.1, 0.01, 0.999])
    grid = build_grid(per_feature)
    np.testing.assert_allclose(grid.density, [[1.0, 0.5, 0.25]])
    assert grid.coords[["sparsity", "density"]].isna().all(axis=None)


@pytest.mark.parametrize("name", sorted(p.stem for p in (CONF / "sae_experiment").glob("*.yaml")))
def test_sae_stage_preset_composes_and_validates(name):
    """conf/sae_experiment/NAME.yaml through conf/sae.yaml, the gate `python -m sweep.sae` uses (sweep/sae/)."""
    from omegaconf import OmegaConf

    from sweep.sae.config import StageConfig

    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        config = OmegaConf.to_object(compose(config_name="sae", overrides=[f"sae_experiment={name}"]))
    assert isinstance(config, StageConfig) and config.sae.steps == 10_000 and config.sae.lr == 1e-3
