"""The report's captions: every figure name the code can save (read from the sources with ast) has one, and each
says what it shows (more than its name)."""
from __future__ import annotations

import ast
from pathlib import Path

from analysis.report.captions import FIGURES

ROOT = Path(__file__).resolve().parents[3]


def saved_names(package: Path = ROOT / "analysis") -> set[str]:
    """The names passed to `save(fig, folder, NAME, formats)` as a string (f"phase{suffix}": "phase"), the string
    defaults of parameters called `name` (analysis/figures/sae.py) and the keys of plot_run's `drawers`."""
    names = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "save" and len(node.args) >= 3:
                arg = node.args[2]
                if isinstance(arg, ast.JoinedStr):
                    arg = arg.values[0]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    names.add(arg.value)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                params = node.args.args + node.args.kwonlyargs
                defaults = [None] * (len(node.args.args) - len(node.args.defaults)) + node.args.defaults + \
                    node.args.kw_defaults
                names |= {d.value for p, d in zip(params, defaults)
                          if p.arg == "name" and isinstance(d, ast.Constant) and isinstance(d.value, str)}
            elif (isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "drawers"
                  and isinstance(node.value, ast.Dict)):
                names |= {k.value for k in node.value.keys}
    return names


def test_the_scan_finds_the_figures_it_should():
    names = saved_names()
    assert {"phase", "weights", "diagnostics", "restarts", "sae_atoms", "adversarial", "geometry_graph",
            "transformations", "neurons"} <= names  # the scan reaches plot_run, sae.py defaults and the experiments


def test_every_saved_figure_has_a_caption():
    assert sorted(saved_names() - set(FIGURES)) == []


def test_each_caption_says_more_than_its_name():
    short = {name: text for name, text in FIGURES.items() if len(text.split()) < 6 or text.lower() == name}
    assert short == {}
