"""The phase of every feature of any sweep, and the README's Python-API block (issue 24, point 5)."""
import re
import shlex

import pandas as pd
import pytest

from tests.conftest import ROOT, run_cli


def test_the_readme_python_block_runs_on_the_run_it_names(tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Python API")[1].split("\n## ")[0]
    command = re.search(r"`python -m sweep\.run ([^`]*)`", section).group(1)
    command = shlex.split(command)
    (block,) = re.findall(r"```python\n(.*?)```", section, re.S)
    out = run_cli([*command, "exec.plots=false", "exec.progress=false"], cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    monkeypatch.chdir(tmp_path)
    scope = {}
    exec(block, scope)  # the user's notebook cell, as written
    phases, W = scope["phases"], scope["W"]
    assert set(phases.loc[phases.used, "phase"]) <= {"not_represented", "dedicated", "superposition"}
    assert phases.used.sum() == 3 * 5  # best seed of each of 3 cells, 5 features
    assert W.shape == (2, 5)


def test_seed_phases_on_a_sweep_without_an_extra_feature_points_to_feature_phases():
    from analysis.phase import seed_phases

    table = pd.DataFrame({"importance_kind": ["geometric"], "importance_decay": [0.9]})
    with pytest.raises(ValueError, match="feature_phases"):
        seed_phases(table, "best")
