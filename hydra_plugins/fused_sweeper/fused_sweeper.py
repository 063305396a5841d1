"""`hydra/sweeper=fused`: a Hydra multirun as few compiled programs as array shapes allow.

`python -m sweep.run -m sparsity=0,0.9 importance.decay=0.7,0.9 seed=0,1,2 model.n_hidden=2,3`
is 24 points for Hydra's basic sweeper (24 jobs, 24 compilations). Here:

1. Sweeps of *fused* keys (sweep.grid.FUSED_AXES: seed, sparsity/density, importance
   parameters, lr, weight decay) become one list override each (`sparsity=[0,0.9]`); the
   trainer fuses list axes into one vmapped program, and since a Hydra sweep is a Cartesian
   product, the grid's product of the lists is exactly the swept points.
2. Sweeps of every other key (shapes or code: n_features, n_hidden, kind, batch size, steps...)
   are expanded as the basic sweeper does: each combination is one *group*.
3. A group with more models than fit one job (sweep.memory: memory budget, CPU cache) is
   split into `exec.chunk=i exec.n_chunks=k` jobs, on boundaries of the blocks of models that
   share a data stream (sweep.grid.Grid.block_size) where the chunk size allows.

The jobs go to the configured launcher (basic, joblib, submitit, ...) like any Hydra jobs, and
the plan (groups, chunks, compiled programs) is written to `sweep.json` in the sweep dir.
With `exec.dry_run=true` the plan is printed instead, and nothing is compiled, written or launched.
"""

import itertools
import json
import logging
import math
import sys
from collections import OrderedDict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from hydra.core.config_store import ConfigStore
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from hydra.errors import CompactHydraException
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf, open_dict

# the functions mutation testing plants bugs in (tools/mutate.py; the rest is plumbing or messages)
MUTATE_ONLY = ["_flatten", "group_overrides"]

log = logging.getLogger(__name__)

CHUNK_KEYS = ("exec.chunk", "exec.n_chunks")  # set by this sweeper only


class SweepError(CompactHydraException):
    """A sweep this sweeper cannot run; reported as one line (sweep.run.cli)."""
DENSITY_KEYS = ("sparsity", "density")  # alternatives: giving one nulls the other


@dataclass
class FusedSweeperConf:
    _target_: str = "hydra_plugins.fused_sweeper.fused_sweeper.FusedSweeper"
    # Sweep defined in the config, as for the basic sweeper: {key: "0,0.5,0.9"}.
    params: Optional[Dict[str, str]] = None
    # Memory one job may use for its stack of models; null: half the GPUs' memory, else a quarter of RAM.
    memory_gb: Optional[float] = None
    # Stack size (MB) that keeps CPU throughput high; null: this machine's L3 on CPU, none on GPU; 0: none.
    cache_mb: Optional[float] = None
    # Hard cap on models per job (e.g. to spread a group over more SLURM jobs); null: no cap.
    max_models_per_chunk: Optional[int] = None
    # Write sweep.json (the plan) and stop without launching anything (exec.dry_run=true: print it, write nothing).
    dry_run: bool = False


ConfigStore.instance().store(group="hydra/sweeper", name="fused", node=FusedSweeperConf, provider="tms-sweep")


@dataclass
class Group:
    """One compiled shape: its overrides and the jobs (chunks) that train it."""

    overrides: List[str]
    n_models: int = 0
    bytes_per_model: int = 0
    models_per_chunk: int = 0
    block_size: int = 1  # models that share one data stream (batches drawn once per block and step)
    jobs: List[Dict[str, Any]] = field(default_factory=list)


def _fused_axes() -> tuple:
    from sweep.grid import FUSED_AXES  # lazy: Hydra imports every plugin at start-up

    return FUSED_AXES


def _flatten(values) -> list:
    """Sweep values of a fused key, list-valued ones spliced in, duplicates dropped (in order); floats to 12 significant
    digits (range(0.1,1.01,0.1)'s 0.30000000000000004 is 0.3: sweep.config.exact)."""
    out = []
    for value in values:
        for v in value if isinstance(value, list) else [value]:
            v = float(f"{v:.12g}") if isinstance(v, float) else v
            if v not in out:
                out.append(v)
    return out


def group_overrides(overrides: Sequence[Override], fused_axes: Sequence[str]) -> tuple[list[list[str]], int]:
    """Override lists of the groups (one per combination of non-fused values), and the point count.

    A fused key's sweep becomes one list override; any other sweep is expanded like the basic
    sweeper does. The point count is the number of jobs the basic sweeper would launch.
    """
    slots: "OrderedDict[str, list[str]]" = OrderedDict()  # key -> its alternatives (one per group)
    points: dict[str, int] = {}  # key -> number of swept values
    for override in overrides:
        key = override.get_key_element()
        if override.key_or_group in CHUNK_KEYS:
            raise SweepError(f"{override.key_or_group} is set by the fused sweeper; "
                                 "use hydra.sweeper.max_models_per_chunk to split a group")
        if override.is_sweep_override() and not override.is_discrete_sweep():
            raise SweepError(f"the fused sweeper enumerates values; {override.input_line} is an "
                                 f"{override.value_type.name} (give a list, range() or choice())")
        if not override.is_sweep_override():
            slots[key], points[key] = [f"{key}={override.get_value_element_as_str()}"], 1
        elif override.key_or_group in fused_axes and not override.is_delete():
            values = list(override.sweep_iterator())
            # Override's own formatter writes a list back in override syntax (quoting strings)
            slots[key], points[key] = [f"{key}={Override._get_value_element_as_str(_flatten(values))}"], len(values)
        else:
            values = list(override.sweep_string_iterator())
            slots[key], points[key] = [f"{key}={v}" for v in values], len(values)
    given = {o.key_or_group for o in overrides}
    for name, other in (DENSITY_KEYS, DENSITY_KEYS[::-1]):
        setting = [o for o in overrides if o.key_or_group == name and (o.is_sweep_override() or o.value() is not None)]
        if setting and other not in given:
            slots[other] = [f"{other}=null"]
    return [list(combo) for combo in itertools.product(*slots.values())], math.prod(points.values())


class FusedSweeper(Sweeper):
    def __init__(self, params: Optional[Dict[str, str]] = None, memory_gb: Optional[float] = None,
                 cache_mb: Optional[float] = None, max_models_per_chunk: Optional[int] = None,
                 dry_run: bool = False) -> None:
        self.params = params or {}
        self.dry_run = dry_run
        self.memory_gb = memory_gb
        self.cache_mb = cache_mb
        self.max_models_per_chunk = max_models_per_chunk
        self.hydra_context: Optional[HydraContext] = None
        self.config: Optional[DictConfig] = None
        self.launcher = None
        self.print_only = False  # exec.dry_run=true: print the plan, write and launch nothing

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        from hydra.core.plugins import Plugins

        self.hydra_context = hydra_context
        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            hydra_context=hydra_context, task_function=task_function, config=config
        )

    def _limits(self) -> tuple[int, Optional[int]]:
        from sweep import memory

        budget = memory.default_budget_bytes() if self.memory_gb is None else int(self.memory_gb * 2**30)
        cache = memory.default_cache_bytes() if self.cache_mb is None else int(self.cache_mb * 2**20) or None
        return budget, cache

    def plan(self, arguments: List[str]) -> tuple[dict, list[list[str]]]:
        """The plan (groups, their chunks; written to sweep.json) and every job's overrides.

        Each group's config is composed and validated here, so a bad value stops the sweep with
        `config error: ...` (exit 2) before anything is launched or written.
        """
        from sweep import memory, timing
        from sweep.config import ConfigError
        from sweep.grid import build_grid
        from sweep.run import validate

        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        overrides = parser.parse_overrides([f"{k}={v}" for k, v in self.params.items()] + list(arguments))
        group_lists, n_points = group_overrides(overrides, _fused_axes())
        budget, cache = self._limits()
        groups, jobs = [], []
        for group_list in group_lists:
            composed = self.hydra_context.config_loader.load_sweep_config(self.config, group_list)
            with open_dict(composed):
                del composed["hydra"]
            try:
                config = validate(composed)
                grid = build_grid(config)
                n_models, block = len(grid), grid.block_size()
                size = memory.models_per_chunk(config, budget, cache, self.max_models_per_chunk, block)
            except ConfigError as error:
                print(f"config error: {error} (in {' '.join(group_list)})", file=sys.stderr)
                sys.exit(2)
            self.print_only = self.print_only or config.exec.dry_run
            per_model = memory.bytes_per_model(config, block)
            group = Group(group_list, n_models, per_model, size, block)
            n_chunks = math.ceil(n_models / size)
            for chunk, (start, stop) in enumerate(grid.chunk_bounds(n_chunks)):
                job = group_list + ([f"exec.chunk={chunk}", f"exec.n_chunks={n_chunks}"] if n_chunks > 1 else [])
                group.jobs.append({"num": len(jobs), "chunk": chunk, "n_chunks": n_chunks, "n_models": stop - start,
                                   "bytes": (stop - start) * per_model, "steps": config.steps,
                                   "work_per_step": timing.work_per_step(config, stop - start)})
                jobs.append(job)
            groups.append(group)
        summary = {
            "arguments": list(arguments),
            "points": n_points,
            "models": sum(g.n_models for g in groups),
            "groups": len(groups),
            "jobs": len(jobs),
            "compiled_programs": len(jobs),  # one training program per job
            "memory_budget_bytes": budget,
            "cache_bytes": cache,
            "max_models_per_chunk": self.max_models_per_chunk,
            "plan": [asdict(g) for g in groups],
        }
        return summary, jobs

    def sweep(self, arguments: List[str]) -> Any:
        assert self.config is not None and self.launcher is not None and self.hydra_context is not None
        plan, jobs = self.plan(arguments)
        sweep_dir = Path(self.config.hydra.sweep.dir)
        if self.print_only:
            print(format_plan(plan, job_states(plan, sweep_dir), sweep_dir))
            return []
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        (sweep_dir / "sweep.json").write_text(json.dumps(plan, indent=2))
        log.info("fused sweeper: %d points -> %d models in %d group(s), %d job(s) = %d compiled program(s); plan in %s",
                 plan["points"], plan["models"], plan["groups"], plan["jobs"], plan["compiled_programs"],
                 sweep_dir / "sweep.json")
        if self.dry_run:
            return []
        # Pin every job to this sweep dir: a job re-resolves hydra.sweep.dir with its own overrides,
        # and the default dir is named after the overrides (so that the same command resumes).
        escaped = str(sweep_dir).replace("\\", "\\\\").replace("'", "\\'")
        jobs = [job + [f"hydra.sweep.dir='{escaped}'"] for job in jobs]
        self.validate_batch_is_legal(jobs)
        results = self.launcher.launch(jobs, initial_job_idx=0)
        for result in results:
            _ = result.return_value  # raises if the job failed
        return [results]


def job_states(plan: dict, sweep_dir: Path) -> dict[int, tuple[str, int]]:
    """{job: (what its dir holds, steps left to train)}: complete (reused), a checkpoint (resumed) or nothing."""
    from sweep.checkpoint import CHECKPOINT, saved_step

    states = {}
    for job in (job for group in plan["plan"] for job in group["jobs"]):
        job_dir = sweep_dir / str(job["num"])
        step = saved_step(job_dir / CHECKPOINT) or 0
        states[job["num"]] = (("complete: reused", 0) if (job_dir / "summary.json").exists() else
                              (f"checkpoint at step {step:,}: resumes", job["steps"] - step) if step else
                              ("trains", job["steps"]))
    return states


def format_plan(plan: dict, states: dict[int, tuple[str, int]], sweep_dir: Path) -> str:
    """The plan as text (exec.dry_run=true): totals, then per group its jobs with their memory estimates, what each
    job's dir holds and its time; then the sweep dir and the time of the jobs left (sweep/timing.py)."""
    from sweep import timing

    cache = f"{plan['cache_bytes'] / 2**20:,.0f} MB" if plan["cache_bytes"] else "none"
    lines = [(f"dry run: {plan['points']:,} points -> {plan['models']:,} models in {plan['groups']} group(s), "
              f"{plan['jobs']} job(s) = {plan['compiled_programs']} compiled program(s); nothing compiled or written"),
             f"memory budget per job {plan['memory_budget_bytes'] / 2**30:,.3g} GB, CPU cache target {cache}"]
    estimates = {}
    for i, group in enumerate(plan["plan"]):
        lines.append(f"group {i}: {' '.join(group['overrides'])}")
        lines.append(f"  {group['n_models']:,} models, {group['bytes_per_model'] / 2**10:,.1f} kB each, "
                     f"{group['block_size']} per data stream, at most {group['models_per_chunk']:,} per job")
        for job in group["jobs"]:
            state, left = states[job["num"]]
            if left:
                estimates[job["num"]] = timing.estimate(job["work_per_step"], left)
            time = f", ~{timing.duration(estimates[job['num']][0])}" if estimates.get(job["num"]) else ""
            lines.append(f"  job {job['num']}: chunk {job['chunk'] + 1}/{job['n_chunks']}, {job['n_models']:,} models, "
                         f"~{job['bytes'] / 2**20:,.1f} MB, {state}{time}")
    lines.append(f"sweep dir {sweep_dir}: {plan['jobs'] - len(estimates)} of {plan['jobs']} job(s) complete (reused, "
                 "not retrained)")
    if estimates and None in estimates.values():
        lines.append(timing.said(None))
    elif estimates:
        lines.append(f"the other {len(estimates)} job(s), one after another: about "
                     f"{timing.duration(sum(seconds for seconds, _ in estimates.values()))} (each "
                     f"scaled from this machine's recorded run nearest in work per step, {timing.rates_path()}; rough)")
    return "\n".join(lines)
