"""Mutation testing of the modules: `python -m tools.mutate [MODULE ...] [--list] [--sample N] [--only ...]`.

A small AST mutator (no dependency): each mutant changes one operator, constant, comparison,
keyword argument or list element of one function of a module, in a *copy* of the repo
(tracked and untracked, non-ignored files, outputs/ left out, in a temp dir); the module's own
tests then run against it with `pytest -x`. No map is kept by hand: a module's tests are its mirror files
(sweep/data.py: tests/sweep/test_data.py and tests/sweep/test_data_*.py), every module with such a file is a
target, and a module may name the functions that hold its science in a list MUTATE_ONLY (else all are mutated).
A mutant whose tests fail (or run past 4x the unmutated time) is *killed*; one whose tests pass *survived*.
The working tree is never written to. Results go to outputs/mutation/<module>.json and are summarised on stdout.

Why not mutmut or cosmic-ray: both mutate every line of a file and (mutmut 3) run the whole
suite in forked workers or trampolines that do not survive JAX's threads; here each mutant is a
fresh `python -m pytest -x` on the few tests that exercise the module, restricted to the functions
that hold the science, which is what makes a pass practical on 2 cores (docs/testing.md).
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "outputs" / "mutation"

PACKAGES = ("sweep", "analysis", "hydra_plugins")
SCOPE = "MUTATE_ONLY"  # a module-level list in the module mutated: only these functions (and constants) are mutated


def owner(test_file: Path, modules: list[str]) -> str | None:
    """The module a test file belongs to: test_<name>.py or test_<name>_<topic>.py, the longest such name wins."""
    stem = test_file.stem.removeprefix("test_")
    return max((m for m in modules if stem == m or stem.startswith(m + "_")), key=len, default=None)


def mirror_tests(path: str) -> list[str]:
    """The tests of module `path` (e.g. sweep/data.py): tests/sweep/test_data.py and tests/sweep/test_data_*.py."""
    module, folder = Path(path), ROOT / "tests" / Path(path).parent
    names = [p.stem for p in (ROOT / module.parent).glob("*.py")] + [
        p.name for p in (ROOT / module.parent).iterdir() if (p / "__init__.py").exists()]
    return sorted(str(f.relative_to(ROOT)) for f in folder.glob(f"test_{module.stem}*.py")
                  if owner(f, names) == module.stem)


def scope(path: str) -> list[str] | None:
    """The module's MUTATE_ONLY list (read with ast, not imported), or None: every function and constant."""
    for node in ast.parse((ROOT / path).read_text()).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == SCOPE:
            return list(ast.literal_eval(node.value))
    return None


def targets() -> dict[str, tuple[str, list[str] | None, list[str]]]:
    """name -> (path, functions to mutate (None: all), its test files), for every module with a test file of its own;
    the name is the module's file name where that is unique, else its dotted path."""
    paths = sorted(str(p.relative_to(ROOT)) for package in PACKAGES for p in (ROOT / package).rglob("*.py")
                   if p.stem not in ("__init__", "__main__"))
    found = {path: mirror_tests(path) for path in paths}
    found = {path: tests for path, tests in found.items() if tests}
    stems = [Path(path).stem for path in found]
    return {(Path(path).stem if stems.count(Path(path).stem) == 1 else path[:-3].replace("/", ".")):
            (path, scope(path), tests) for path, tests in found.items()}


TARGETS = targets()
HAND_LOOP = ["tests/sweep/test_train_options.py::test_training_matches_a_hand_written_adamw_loop"]

# The one-line bugs issue 16 found surviving every test, as source patches (file, old, new): `--listed` runs each
# against the tests that should catch it.
LISTED = {
    "logged training loss replaced by the mean over all models": (
        "sweep/train.py", "return state, losses.mean(axis=0)", "return state, jnp.broadcast_to(losses.mean(), losses.shape[1:])",
        HAND_LOOP),
    "phase superposition threshold 0.25 -> 0.75": (
        "analysis/config.py", "superposition: float = 0.25", "superposition: float = 0.75",
        ["tests/analysis/test_phase.py::test_phase"]),
    "importance.relative removed from the fused axes": (
        "sweep/grid.py", '    "importance.relative",\n', "", ["tests/sweep/test_grid.py::test_grid",
                                                          "tests/hydra_plugins/fused_sweeper/test_fused_sweeper.py::test_sweeper"]),
    "the phase figure's empirical panel drawn all grey": (
        "analysis/figures/plot_phase.py", "np.where(np.isnan(mean_rgb), 0.85, mean_rgb)", "np.full_like(mean_rgb, 0.85)",
        ["tests/analysis/figures/test_plot_phase.py::test_phase_figure_draws_every_cell_in_its_phase_colour"]),
    "weight decay removed from the bias": (
        "sweep/train.py", "weight_decay=weight_decay)",
        "weight_decay=weight_decay, mask=lambda p: {k: k != 'b' for k in p})", HAND_LOOP),
}

SKIP_CALLS = {"ConfigError", "ValueError", "SweepError", "print", "log", "warn", "set_postfix", "tqdm", "bar"}


@dataclass
class Mutant:
    module: str
    index: int
    line: int
    function: str
    description: str
    status: str = ""  # killed | survived | timeout | error
    seconds: float = 0.0
    failed: str = ""  # first failing test
    code: str = ""  # the source line mutated

    @property
    def key(self) -> str:
        """Names a mutant across edits elsewhere in the file (tools/mutants_equivalent.json)."""
        return f"{self.function} | {self.description} | {self.code}"


class _Sites(ast.NodeVisitor):
    """Collect (node, kind, replacement description) of every mutation site inside the selected functions."""

    def __init__(self, functions):
        self.functions, self.stack, self.sites = functions, [], []

    def selected(self) -> bool:
        return self.functions is None or any(name in self.functions for name in self.stack)

    def visit_FunctionDef(self, node):
        self.stack.append(node.name)
        body = node.body[1:] if ast.get_docstring(node) else node.body
        for child in [*node.decorator_list, *node.args.defaults, *node.args.kw_defaults, *body]:
            if child is not None:
                self.visit(child)
        self.stack.pop()

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node):
        self.stack.append(node.name)
        body = node.body[1:] if ast.get_docstring(node) else node.body
        for child in body:
            self.visit(child)
        self.stack.pop()

    def visit_Assign(self, node):
        if not self.stack:  # module-level constant: its name selects it
            self.stack.append(getattr(node.targets[0], "id", ""))
            self.generic_visit(node)
            self.stack.pop()
        else:
            self.generic_visit(node)

    def visit_AnnAssign(self, node):
        name = getattr(node.target, "id", "")
        self.stack.append(name)
        if node.value is not None:
            self.visit(node.value)
        self.stack.pop()

    def visit_Call(self, node):
        callee = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if callee in SKIP_CALLS or (isinstance(node.func, ast.Attribute) and getattr(node.func.value, "id", "") == "log"):
            return  # messages and logging
        if self.selected():
            for k, keyword in enumerate(node.keywords):
                if keyword.arg is not None:
                    self.sites.append((node, ("drop_keyword", k), f"drop keyword {keyword.arg}="))
        self.generic_visit(node)

    def visit_JoinedStr(self, node):
        return  # f-strings: messages

    def visit_BinOp(self, node):
        swaps = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.Pow: ast.Mult,
                 ast.FloorDiv: ast.Div, ast.MatMult: None, ast.BitXor: ast.BitOr, ast.RShift: ast.LShift,
                 ast.BitOr: ast.BitAnd, ast.BitAnd: ast.BitOr, ast.Mod: ast.FloorDiv, ast.LShift: ast.RShift}
        new = swaps.get(type(node.op))
        if new is not None and self.selected():
            self.sites.append((node, ("op", new), f"{type(node.op).__name__} -> {new.__name__}"))
        self.generic_visit(node)

    def visit_UnaryOp(self, node):
        if isinstance(node.op, (ast.Not, ast.USub)) and self.selected():
            self.sites.append((node, ("drop_unary",), f"drop {type(node.op).__name__}"))
        self.generic_visit(node)

    def visit_BoolOp(self, node):
        if self.selected():
            other = ast.Or if isinstance(node.op, ast.And) else ast.And
            self.sites.append((node, ("op", other), f"{type(node.op).__name__} -> {other.__name__}"))
        self.generic_visit(node)

    def visit_Compare(self, node):
        swaps = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
                 ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}
        if self.selected():
            for k, op in enumerate(node.ops):
                new = swaps.get(type(op))
                if new is not None:
                    self.sites.append((node, ("cmp", k, new), f"{type(op).__name__} -> {new.__name__}"))
        self.generic_visit(node)

    def visit_Constant(self, node):
        if not self.selected() or isinstance(node.value, str) or node.value is None:
            return
        if isinstance(node.value, bool):
            self.sites.append((node, ("const", not node.value), f"{node.value} -> {not node.value}"))
        elif isinstance(node.value, int):
            self.sites.append((node, ("const", node.value + 1), f"{node.value} -> {node.value + 1}"))
        elif isinstance(node.value, float):
            new = node.value * 3 if node.value else 1.0
            self.sites.append((node, ("const", new), f"{node.value!r} -> {new!r}"))

    def visit_Tuple(self, node):
        self._sequence(node)

    def visit_List(self, node):
        self._sequence(node)

    def _sequence(self, node):
        if self.selected() and isinstance(node.ctx, ast.Load) and len(node.elts) >= 2 and all(
                isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
            for k, element in enumerate(node.elts):
                self.sites.append((node, ("drop_element", k), f"drop element {element.value!r}"))
            return
        self.generic_visit(node)


def _apply(tree: ast.Module, site_index: int, functions) -> str:
    """Source of `tree` with mutation number `site_index` applied (the tree is re-collected, then mutated)."""
    visitor = _Sites(functions)
    visitor.visit(tree)
    node, change, _ = visitor.sites[site_index]
    kind = change[0]
    if kind == "op":
        node.op = change[1]()
    elif kind == "cmp":
        node.ops[change[1]] = change[2]()
    elif kind == "const":
        node.value = change[1]
    elif kind == "drop_keyword":
        del node.keywords[change[1]]
    elif kind == "drop_element":
        del node.elts[change[1]]
    elif kind == "drop_unary":
        parent = next(p for p in ast.walk(tree) for f, v in ast.iter_fields(p)
                      if v is node or (isinstance(v, list) and any(x is node for x in v)))
        for field_name, value in ast.iter_fields(parent):
            if value is node:
                setattr(parent, field_name, node.operand)
            elif isinstance(value, list):
                value[:] = [node.operand if x is node else x for x in value]
    return ast.unparse(tree)


def mutants(module: str) -> list[Mutant]:
    path, functions, _ = TARGETS[module]
    text = (ROOT / path).read_text()
    tree, lines = ast.parse(text), text.splitlines()
    visitor = _Sites(functions)
    visitor.visit(tree)
    out = []
    for k, (node, _, description) in enumerate(visitor.sites):
        function = next((f.name for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.ClassDef))
                         and f.lineno <= node.lineno <= (f.end_lineno or f.lineno)), "<module>")
        out.append(Mutant(module, k, node.lineno, function, description, code=lines[node.lineno - 1].strip()))
    return out


def copy_repo(destination: Path) -> None:
    """Tracked and untracked, non-ignored files of the working tree (never outputs/) into `destination`."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in files:
        if not name or name.startswith("outputs/") or not (ROOT / name).is_file():
            continue
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, target)


def run_tests(copy: Path, tests: list[str], timeout: float) -> tuple[str, float, str]:
    env = {**os.environ, "PYTHONPATH": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}
    start = time.perf_counter()
    try:
        done = subprocess.run([sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                               *tests], cwd=copy, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - start, ""
    seconds = time.perf_counter() - start
    failed = next((line.split(" ")[1] for line in done.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))), "")
    if done.returncode == 0:
        return "survived", seconds, ""
    return ("killed" if done.returncode == 1 else "error"), seconds, failed or done.stdout[-300:]


def check_isolated(copy: Path) -> None:
    """The copy's modules, not the working tree's (editable install), are the ones its tests import."""
    env = {**os.environ, "PYTHONPATH": str(copy)}
    where = subprocess.run([sys.executable, "-c", "import sweep, analysis, hydra_plugins.fused_sweeper.fused_sweeper as f;"
                            "print(sweep.__file__); print(analysis.__file__); print(f.__file__)"],
                           cwd=copy, env=env, capture_output=True, text=True, check=True).stdout.split()
    assert all(Path(p).resolve().is_relative_to(copy.resolve()) for p in where), where


def mutate_module(module: str, only: list[int] | None = None, sample: int | None = None, verbose: bool = True) -> list[Mutant]:
    path, functions, tests = TARGETS[module]
    source = (ROOT / path).read_text()
    found = mutants(module)
    if only is not None:
        found = [m for m in found if m.index in only]
    if sample is not None and sample < len(found):  # evenly spaced: every part of the module is represented
        found = [found[k] for k in np.unique(np.linspace(0, len(found) - 1, sample).round().astype(int))]
    with tempfile.TemporaryDirectory(prefix=f"mutate-{module}-") as tmp:
        copy = Path(tmp)
        copy_repo(copy)
        check_isolated(copy)
        status, baseline, failed = run_tests(copy, tests, timeout=1800)
        if status != "survived":
            raise SystemExit(f"{module}: the unmutated tests do not pass ({status}: {failed})")
        if verbose:
            print(f"{module}: {len(found)} mutants of {path}; tests pass unmutated in {baseline:.0f} s", flush=True)
        for mutant in found:
            (copy / path).write_text(_apply(ast.parse(source), mutant.index, functions))
            mutant.status, mutant.seconds, mutant.failed = run_tests(copy, tests, timeout=max(60.0, 4 * baseline))
            if verbose:
                print(f"  #{mutant.index:3d} {mutant.status:8s} {mutant.seconds:5.0f}s  {path}:{mutant.line} "
                      f"{mutant.function}: {mutant.description}  {mutant.failed}", flush=True)
        (copy / path).write_text(source)
    return found


def run_listed(verbose: bool = True) -> dict:
    """Each of LISTED's patches in a copy of the repo, against its tests: {description: status}."""
    out = {}
    with tempfile.TemporaryDirectory(prefix="mutate-listed-") as tmp:
        copy = Path(tmp)
        copy_repo(copy)
        check_isolated(copy)
        for description, (path, old, new, tests) in LISTED.items():
            source = (copy / path).read_text()
            if source.count(old) != 1:
                raise SystemExit(f"{description}: {old!r} is not found once in {path}; update LISTED")
            status, _, failed = run_tests(copy, tests, timeout=1800)
            if status != "survived":
                raise SystemExit(f"{description}: the unmutated tests do not pass ({status}: {failed})")
            (copy / path).write_text(source.replace(old, new))
            status, seconds, failed = run_tests(copy, tests, timeout=1800)
            (copy / path).write_text(source)
            out[description] = status
            if verbose:
                print(f"  {status:8s} {seconds:5.0f}s  {description}  {failed}", flush=True)
    return out


def summary(module: str, found: list[Mutant], seconds: float, equivalent: dict) -> dict:
    killed = sum(m.status in ("killed", "timeout", "error") for m in found)
    equiv = [m for m in found if m.status == "survived" and m.key in equivalent]
    survived = [m for m in found if m.status == "survived" and m.key not in equivalent]
    non_equivalent = len(found) - len(equiv)
    return {"module": module, "path": TARGETS[module][0], "mutants": len(found), "killed": killed,
            "equivalent": len(equiv), "survived": len(survived),
            "score": killed / non_equivalent if non_equivalent else 1.0, "seconds": round(seconds),
            "date": time.strftime("%Y-%m-%d"), "survivors": [asdict(m) for m in survived],
            "equivalents": [{**asdict(m), "why": equivalent[m.key]} for m in equiv]}


def merge(last: dict, rerun: list[Mutant], seconds: float, equivalent: dict) -> dict:
    """The last pass with these mutants' new results (e.g. its survivors re-run after tests were added)."""
    again = {m.index for m in rerun}
    code = {m.index: m.code for m in mutants(last["module"])}  # passes before `code` was recorded

    def revive(m: dict) -> Mutant:
        return Mutant(**{"code": code.get(m["index"], ""), **{k: v for k, v in m.items() if k != "why"}})

    survivors = [revive(m) for m in last["survivors"] if m["index"] not in again]
    equivalents = [revive(m) for m in last["equivalents"] if m["index"] not in again]
    new_killed = sum(m.status != "survived" for m in rerun)
    was_killed = len(again) - sum(1 for m in last["survivors"] + last["equivalents"] if m["index"] in again)
    killed = last["killed"] - was_killed + new_killed
    pool = survivors + equivalents + [m for m in rerun if m.status == "survived"]
    equiv = [m for m in pool if m.key in equivalent]
    survived = [m for m in pool if m.key not in equivalent]
    non_equivalent = last["mutants"] - len(equiv)
    return {**last, "killed": killed, "equivalent": len(equiv), "survived": len(survived),
            "score": killed / non_equivalent if non_equivalent else 1.0,
            "rerun": sorted(again), "rerun_seconds": round(seconds), "rerun_date": time.strftime("%Y-%m-%d"),
            "survivors": [asdict(m) for m in survived],
            "equivalents": [{**asdict(m), "why": equivalent[m.key]} for m in equiv]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.mutate", description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", default=list(TARGETS), help=f"default: all of {', '.join(TARGETS)}")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--only", type=int, nargs="*", help="these mutant numbers only (one module; merged into its last "
                        "pass); with no numbers, the last pass's survivors")
    parser.add_argument("--sample", type=int, help="at most this many mutants per module, evenly spaced")
    parser.add_argument("--rescore", action="store_true", help="re-apply tools/mutants_equivalent.json to the last pass")
    parser.add_argument("--listed", action="store_true", help="only the one-line bugs listed in issue 16 (LISTED)")
    args = parser.parse_args(argv)
    if args.listed:
        statuses = run_listed()
        return 0 if all(s != "survived" for s in statuses.values()) else 1
    equivalent_path = Path(__file__).with_name("mutants_equivalent.json")
    equivalent = json.loads(equivalent_path.read_text()) if equivalent_path.exists() else {}
    for module in args.modules:
        if args.list:
            for m in mutants(module):
                print(f"{module} #{m.index} {TARGETS[module][0]}:{m.line}  {m.key}")
            continue
        start = time.perf_counter()
        previous = OUT / f"{module}.json"
        if args.rescore:  # today's tools/mutants_equivalent.json applied to the last pass, nothing run
            last = json.loads(previous.read_text())
            result = {"of": len(mutants(module)), **merge(last, [], 0.0, equivalent.get(module, {}))}
            result.update({k: last[k] for k in ("rerun", "rerun_seconds", "rerun_date") if k in last})
            for k in ("rerun", "rerun_seconds", "rerun_date"):
                if k not in last:
                    result.pop(k)
            previous.write_text(json.dumps(result, indent=2))
            print(f"{module}: {result['killed']}/{result['mutants'] - result['equivalent']} ({result['score']:.0%})")
            continue
        if args.only == [] and previous.exists():  # `--only` alone: the survivors of the last pass, against today's tests
            args_only = [m["index"] for m in json.loads(previous.read_text())["survivors"]]
        else:
            args_only = args.only
        found = mutate_module(module, args_only, args.sample)
        result = summary(module, found, time.perf_counter() - start, equivalent.get(module, {}))
        result["of"] = len(mutants(module))
        if args_only is not None and previous.exists():  # a re-run of some mutants: merged into the last pass
            result = merge(json.loads(previous.read_text()), found, time.perf_counter() - start, equivalent.get(module, {}))
            result["of"] = len(mutants(module))
        OUT.mkdir(parents=True, exist_ok=True)
        if args_only is None or previous.exists():
            (OUT / f"{module}.json").write_text(json.dumps(result, indent=2))
        print(f"{module}: {result['killed']}/{result['mutants'] - result['equivalent']} non-equivalent mutants killed "
              f"(of {result['mutants']} run, {result['of']} in all) "
              f"({result['score']:.0%}), {result['equivalent']} equivalent, {result['seconds']} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
