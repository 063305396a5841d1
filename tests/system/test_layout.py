"""The layout (issue 21): the analysis package's imports form no circle and point one way between its wings, no module
is over 300 lines (read from the sources with ast: every import, at the top or inside a function); and the tests
mirror the source: tests/<path>/test_<module>[_<topic>].py, the rule tools/mutate.py finds a module's tests by."""
from __future__ import annotations

import ast
from pathlib import Path

from tools.mutate import PACKAGES, TARGETS, mirror_tests, owner

ROOT = Path(__file__).resolve().parents[2]
ENTRY_POINTS = {"analysis.paper", "analysis.plot", "analysis.callbacks", "analysis.report.__main__"}  # CLIs, the callback
# the modules that hold the science: each must have its own test file (and so is a target of tools/mutate.py)
CORE = ["sweep/data.py", "sweep/grid.py", "sweep/kinds.py", "sweep/memory.py", "sweep/metrics.py", "sweep/recorder.py",
        "sweep/train.py", "hydra_plugins/fused_sweeper/fused_sweeper.py", "analysis/aggregate.py", "analysis/classify.py",
        "analysis/config.py", "analysis/phase.py", "analysis/theory.py", "analysis/theory_paper.py"]
# wing -> the wings it may import: compute (the top level) reads what the engine wrote; figures draw it; the report
# and the experiments use both; nothing imports an entry point
MAY_IMPORT = {"compute": {"compute"}, "figures": {"compute", "figures"}, "report": {"compute", "figures", "report"},
              "experiments": {"compute", "figures", "experiments"}}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(package: str = "analysis") -> dict[str, set[str]]:
    """{module: the modules of `package` it imports}; `from a.b import c` counts a.b.c when that is a module."""
    paths = {module_name(p): p for p in (ROOT / package).rglob("*.py")}
    graph = {}
    for name, path in paths.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                found |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module:
                found |= {f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in paths else node.module
                          for alias in node.names}
        graph[name] = {m for m in found if m in paths and m != name}
    return graph


def wing(module: str) -> str:
    parts = module.split(".")
    if module in ENTRY_POINTS:
        return "entry"
    return parts[1] if len(parts) > 1 and parts[1] in MAY_IMPORT else "compute"  # analysis.X.*: wing X


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every import circle found by depth-first search (each reported once per entry point into it)."""
    found, state = [], {}

    def visit(node, path):
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                found.append(path[path.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt, path + [nxt])
        state[node] = "done"

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    return found


def floors(graph: dict[str, set[str]]) -> dict[str, int]:
    """0 for a module that imports nothing of the package, else one above the highest module it imports."""
    memo = {}

    def floor(node):
        if node not in memo:
            memo[node] = 1 + max((floor(m) for m in graph[node]), default=-1)
        return memo[node]

    return {node: floor(node) for node in graph}


def test_no_import_circle():
    assert cycles(imports()) == []


def test_imports_point_one_way_between_wings():
    graph = imports()
    wrong = [f"{a} ({wing(a)}) imports {b} ({wing(b)})" for a, targets in graph.items() for b in targets
             if wing(b) == "entry" or (wing(a) != "entry" and wing(b) not in MAY_IMPORT[wing(a)])]
    assert wrong == []


def test_every_experiment_module_is_registered_and_has_the_same_parts():
    from analysis.experiments import EXPERIMENTS, MODULES

    on_disk = {p.stem for p in (ROOT / "analysis" / "experiments").glob("*.py")} - {"__init__", "claims", "_template"}
    helpers = {"blog_measures"}  # the blog's per-model tests, split off to keep blog.py under 300 lines
    assert {m.__name__.rsplit(".", 1)[1] for m in MODULES} == on_disk - helpers
    for module in MODULES:
        assert module.PRESETS and module.CLAIMS and callable(module.check) and callable(module.figures), module.__name__
        for claim in module.CLAIMS:
            assert claim.says and claim.source and claim.threshold and callable(claim.measure), (module.__name__, claim)
            assert claim.quote.startswith(('"', "ours:", "unread:")), (module.__name__, claim.quote)
            if claim.quote.startswith('"'):  # a quote names where it is: the section's headings, in single quotes
                assert "section '" in claim.source, (module.__name__, claim.source)
    assert len(EXPERIMENTS) == sum(len(m.PRESETS) for m in MODULES)
    presets = {p.stem for p in (ROOT / "conf" / "experiment").glob("*.yaml")}
    stages = {p.stem for p in (ROOT / "conf" / "sae_experiment").glob("*.yaml")}  # SAE stages (sweep/sae/)
    assert set(EXPERIMENTS) == presets | stages
    for name, experiment in EXPERIMENTS.items():  # each preset file exactly where the preset says
        assert (name in presets, name in stages) == (experiment.preset.toy, experiment.preset.sae), name


def test_every_test_file_under_a_package_folder_names_a_module_there():
    """tests/sweep/test_data_correlated.py belongs to sweep/data.py; a file that names no module is misplaced."""
    orphans = []
    for package in PACKAGES:
        for test_file in (ROOT / "tests" / package).rglob("test_*.py"):
            source = ROOT / test_file.parent.relative_to(ROOT / "tests")
            names = [p.stem for p in source.glob("*.py")] + [p.name for p in source.iterdir() if (p / "__init__.py").exists()] \
                if source.is_dir() else []
            if owner(test_file, names) is None:
                orphans.append(str(test_file.relative_to(ROOT)))
    assert orphans == []
    assert not list((ROOT / "tests").glob("test_*.py")), "tests/ itself holds only shared helpers; tests go in a subfolder"


def test_every_core_module_has_a_test_file():
    missing = [path for path in CORE if not mirror_tests(path)]
    assert missing == []
    assert {TARGETS[name][0] for name in TARGETS} >= set(CORE)  # and mutation testing finds it


def test_no_module_over_300_lines():
    lines = {str(p.relative_to(ROOT)): len(p.read_text().splitlines()) for p in (ROOT / "analysis").rglob("*.py")}
    long = {path: n for path, n in lines.items() if n > 300}
    assert long == {}


if __name__ == "__main__":  # the layout, printed: python -m tests.system.test_layout
    graph = imports()
    for name, level in sorted(floors(graph).items(), key=lambda item: (item[1], item[0])):
        lines = len((ROOT / (name.replace(".", "/") + ".py")).read_text().splitlines()) if (
            ROOT / (name.replace(".", "/") + ".py")).exists() else len(
            (ROOT / name.replace(".", "/") / "__init__.py").read_text().splitlines())
        print(f"floor {level}  {wing(name):11s} {lines:4d}  {name}  <- {', '.join(sorted(graph[name])) or '-'}")
    print("circles:", cycles(graph) or "none")
