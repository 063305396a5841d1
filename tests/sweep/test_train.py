"""A model's final loss measures the model and nothing else (issue 22): its evaluation batches and their number depend
on its own weights, its own coordinates and the precision target, never on which other models share its job."""
import jax
import jax.numpy as jnp
import numpy as np

from analysis.aggregate import select_seeds
from sweep.grid import build_grid
from sweep.results import feature_table
from sweep.train import Trainer, compile_group, final_evaluation, stacked_hyper, train_grid
from tests.conftest import make_config

# correlated_collapse at CI size (conf/experiment/correlated_collapse.yaml: 3 correlated pairs, n=6, m=2)
COLLAPSE = dict(model={"kind": "relu", "n_features": 6, "n_hidden": 2}, importance={"kind": "constant", "value": 1.0},
                data={"correlation": "correlated", "set_size": 2}, sparsity=None, seed=[0, 1, 2, 3], steps=200,
                batch_size=128, exec={"log_every": 100, "eval_batches": 4, "eval_rel_se": 0.01, "eval_max_batches": 1024})
FULL, SUBSET = [1.0, 0.3, 0.1, 0.07, 0.02], [1.0, 0.3]  # the sparse densities need the most batches


def evaluate_models(cfg, grid, params):
    """final_evaluation of given weights (G models of `grid`), as train_grid runs it at the end of training."""
    _, _, evaluate = compile_group(Trainer(cfg))
    k = grid.block_size()
    blocked = jax.tree.map(lambda a: jnp.asarray(a).reshape(len(grid) // k, k, *a.shape[1:]), params)
    unpad = lambda t: np.asarray(t).reshape(len(grid), *t.shape[2:])  # noqa: E731
    return final_evaluation(evaluate, blocked, stacked_hyper(grid), cfg, unpad)


def best_seeds(grid, result) -> list:
    table = feature_table(grid, result.params, result.final_loss, result.final_loss_se, result.eval_batches)
    best = select_seeds(table.assign(run="r"), "best").query("used").drop_duplicates("model_id")
    return best.sort_values("density")[["density", "seed"]].values.tolist()


def test_a_models_loss_and_verdict_do_not_depend_on_the_other_models_of_its_job():
    cfg = make_config(**COLLAPSE, density=FULL)
    grid = build_grid(cfg)
    full = train_grid(cfg, grid)
    mine = np.flatnonzero(grid.coords["density"].isin(SUBSET).to_numpy())
    # these models need fewer batches than the job's noisiest: a job-wide count (the code before issue 22) gave them more
    assert full.eval_batches[mine].max() < full.eval_batches.max()
    # the same weights evaluated in a two-density job: bitwise the same losses, standard errors and batch counts
    part = grid.select(mine)
    loss, se, batches = evaluate_models(cfg, part, jax.tree.map(lambda a: a[mine], full.params))
    for name, got, want in (("loss", loss, full.final_loss), ("se", se, full.final_loss_se),
                            ("batches", batches, full.eval_batches)):
        np.testing.assert_array_equal(got, want[mine], err_msg=name)
    # trained in a two-density job: XLA's vectorisation over the job's streams rounds the weights differently in
    # float32 (measured: up to 6e-8 apart), nothing more; the same counts and the same lowest-loss seed per density
    cfg_part = make_config(**COLLAPSE, density=SUBSET)
    alone = train_grid(cfg_part, build_grid(cfg_part))
    order = [list(zip(part.coords["density"], part.coords["seed"])).index(k)
             for k in zip(build_grid(cfg_part).coords["density"], build_grid(cfg_part).coords["seed"])]
    np.testing.assert_allclose(alone.W, full.W[mine][order], atol=1e-6, rtol=0)
    np.testing.assert_allclose(alone.final_loss, full.final_loss[mine][order], rtol=1e-5)
    np.testing.assert_array_equal(alone.eval_batches, full.eval_batches[mine][order])
    assert best_seeds(build_grid(cfg_part), alone) == [s for s in best_seeds(grid, full) if s[0] in SUBSET]
