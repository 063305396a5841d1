"""`hydra/sweeper=fused_sae` (conf/sae.yaml): `python -m sweep.sae -m` as few jobs as the SAE stage allows.

The stage fuses lists of `FUSED_SAE_KEYS` inside one invocation (one program per arch and dictionary size, the
coefficients and seeds vmapped, each SAE trained as if alone: tests/sweep/sae/test_train.py). So, as the project's
fused sweeper does for `python -m sweep.run -m` (fused_sweeper.py, `group_overrides`):

1. a sweep of a fused key becomes one list override (`-m sae.l1=0.01,0.03` -> `sae.l1=[0.01,0.03]`): one job;
2. a sweep of any other key (run, sae.steps, sae.batch_size, synthetic.d, ...) is expanded as the basic sweeper does,
   one job per combination; with more than one job and no `out` given, job i writes `out=SWEEP_DIR/i`, so that no job
   overwrites another's results (a single job writes where the same command without -m would).

Every job's config is composed and validated first: a bad value is one line (`config error: ...`, exit 2) before
anything runs. The plan (points, jobs, their overrides) goes to SWEEP_DIR/sweep.json.
"""
import json
import logging
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf, open_dict

from hydra_plugins.fused_sweeper.fused_sweeper import group_overrides

log = logging.getLogger(__name__)

FUSED_SAE_KEYS = ("sae.arch", "sae.dict_size", "sae.l1", "sae.k", "sae.seed", "synthetic.seed")


@dataclass
class FusedSAESweeperConf:
    _target_: str = "hydra_plugins.fused_sweeper.sae_sweeper.FusedSAESweeper"
    params: Optional[Dict[str, str]] = None  # a sweep defined in the config, as for the basic sweeper


ConfigStore.instance().store(group="hydra/sweeper", name="fused_sae", node=FusedSAESweeperConf, provider="tms-sweep")


def job_overrides(groups: List[List[str]], sweep_dir: Path) -> List[List[str]]:
    """Each group's overrides; with several groups, each writes its own out=SWEEP_DIR/<job> unless `out` is given."""
    if len(groups) < 2 or any(o.split("=", 1)[0].lstrip("+~") == "out" for o in groups[0]):
        return [list(g) for g in groups]
    return [[*g, f"out={sweep_dir / str(i)}"] for i, g in enumerate(groups)]


class FusedSAESweeper(Sweeper):
    def __init__(self, params: Optional[Dict[str, str]] = None) -> None:
        self.params = params or {}
        self.hydra_context: Optional[HydraContext] = None
        self.config: Optional[DictConfig] = None
        self.launcher = None

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        from hydra.core.plugins import Plugins

        self.hydra_context = hydra_context
        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def plan(self, arguments: List[str]) -> tuple[dict, List[List[str]]]:
        """The plan (written to sweep.json) and every job's overrides, each job's config validated first."""
        from sweep.config import ConfigError
        from sweep.sae.__main__ import validate

        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        overrides = parser.parse_overrides([f"{k}={v}" for k, v in self.params.items()] + list(arguments))
        groups, n_points = group_overrides(overrides, FUSED_SAE_KEYS)
        jobs = job_overrides(groups, Path(self.config.hydra.sweep.dir))
        for job in jobs:
            composed = self.hydra_context.config_loader.load_sweep_config(self.config, job)
            with open_dict(composed):
                del composed["hydra"]
            try:
                validate(composed)
            except ConfigError as error:
                print(f"config error: {error} (in {' '.join(job)})", file=sys.stderr)
                sys.exit(2)
        return {"arguments": list(arguments), "points": n_points, "jobs": len(jobs), "overrides": jobs}, jobs

    def sweep(self, arguments: List[str]) -> Any:
        assert self.config is not None and self.launcher is not None and self.hydra_context is not None
        plan, jobs = self.plan(arguments)
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        (sweep_dir / "sweep.json").write_text(json.dumps(plan, indent=2))
        log.info("fused SAE sweeper: %d points -> %d job(s); plan in %s", plan["points"], plan["jobs"],
                 sweep_dir / "sweep.json")
        self.validate_batch_is_legal(jobs)
        results = self.launcher.launch(jobs, initial_job_idx=0)
        for result in results:
            _ = result.return_value  # raises if the job failed
        return [results]
