"""A run's identity: which settings make its results (the fingerprint), which code made them (the code version),
and the dir a command's run lives in (its name), so that the same command finds, resumes or reuses its own run.
"""
from __future__ import annotations

import ast
import functools
import hashlib
import importlib.metadata
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from omegaconf import OmegaConf

if TYPE_CHECKING:
    from sweep.config import Config

# Settings that never change a model's result (left out of the fingerprint and the run name).
PRESENTATION_KEYS = ("exec.progress", "exec.plots", "exec.checkpoint_every", "exec.dry_run", "exec.reuse_other_code")
# Where a multirun's job sits in the plan (set by the fused sweeper; the job's dir already names it).
PLACEMENT_KEYS = ("exec.chunk", "exec.n_chunks")
# Keys added after runs were made, left out of the fingerprint at these defaults (which reproduce the older code's
# results), so that a complete run made before them keeps its fingerprint.
LATER_DEFAULTS = {"data.correlation": "none", "data.set_size": 1, "data.train_size": 0, "exec.snapshots": 0}
# How a model's final loss is measured (sweep/train.py final_evaluation): "own" = each model's batch count from its
# own standard error (issue 22). Runs made before it counted batches for the whole job, so a model's loss depended on
# its neighbours: hashing the rule gives every such run another fingerprint, so that none is reused, even with
# exec.reuse_other_code, as if its losses meant the same (same weights; retrain to get comparable losses).
EVAL_RULE = "own"
# Whose random numbers a model's batches are (sweep/train.py data_key, eval_key): "seed" = one uniform draw per seed and
# step, shared by every density of the seed, and one evaluation draw for every model (issue 25). Runs made before it drew
# a stream per (seed, density): other batches, so other weights and losses. Hashing the rule gives each such run another
# fingerprint: `python -m sweep.run` refuses to reuse its complete run (another config) and sets its checkpoint aside
# (retrains), so older results are never mixed with newer ones; retrain them to compare.
DATA_RULE = "seed"


def config_fingerprint(config: Config) -> str:
    """Hash of every setting that determines the results; a run dir holds results of one fingerprint."""
    tree = OmegaConf.to_container(OmegaConf.structured(config))
    for key in PRESENTATION_KEYS:
        section, name = key.split(".")
        tree[section].pop(name)
    for key, default in LATER_DEFAULTS.items():
        section, name = key.split(".")
        if tree[section][name] == default:
            tree[section].pop(name)
    tree["exec"]["eval_rule"] = EVAL_RULE
    tree["data"]["streams"] = DATA_RULE
    return hashlib.sha1(json.dumps(tree, sort_keys=True).encode()).hexdigest()[:16]


def normalized_source(text: str) -> str:
    """A module's code without what cannot change a result: comments, docstrings, blank lines, formatting (the
    parsed syntax tree written back by ast.unparse)."""
    tree = ast.parse(text)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
                and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
    return ast.unparse(tree)


def source_digest(directory: Path) -> str:
    """12 hex digits of the sha1 of directory/*.py's normalized code (names and `normalized_source`)."""
    digest = hashlib.sha1()
    for path in sorted(directory.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + normalized_source(path.read_text()).encode() + b"\0")
    return digest.hexdigest()[:12]


@functools.cache
def code_version() -> str:
    """'<package version>+<hash of the engine's code, sweep/*.py>': tells results of other code apart. The hash
    ignores comments, docstrings and formatting (`normalized_source`): editing those keeps complete runs usable."""
    try:
        version = importlib.metadata.version("tms-sweep")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return f"{version}+{source_digest(Path(__file__).parent)}"


def run_name(override_dirname: str) -> str:
    """Deterministic run dir name from the command-line overrides, so the same command finds (and
    resumes or reuses) its own earlier run: 'default' without overrides, else a readable prefix + hash."""
    if not override_dirname:
        return "default"
    parts = sorted(override_dirname.split(","), key=lambda part: not part.startswith("experiment="))  # experiment first
    short = re.sub(r"\d+\.\d{5,}(e-?\d+)?", lambda m: f"{float(m.group()):.4g}", ",".join(parts))  # 0.5179474679 -> 0.5179
    safe = re.sub(r"[^A-Za-z0-9_.+-]+", "_", short.replace("=", "-"))
    digest = hashlib.sha1(override_dirname.encode()).hexdigest()[:8]
    return f"{safe[:60]}-{digest}"
