"""--help of both entry points says what a user needs (issue 24, point 7)."""
import subprocess
import sys

from sweep.config import DEFAULT_SPARSITY


def help_of(module, cwd):
    return subprocess.run([sys.executable, "-m", module, "--help"], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_sweep_run_help_lists_keys_defaults_ranges_resolvers_experiments_and_the_reference(tmp_path):
    out = help_of("sweep.run", tmp_path)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    for needed in (str(DEFAULT_SPARSITY), "[0, 1)", "model.n_hidden", "1024 / 10000", "${linspace:", "range(",
                   "docs/reference.md", "phase_n2", "measured:", "-m"):
        assert needed in text, needed
    assert "sparsity: null" not in text and list(tmp_path.iterdir()) == []


def test_analysis_paper_help_lists_experiments_with_times_and_the_override_syntax(tmp_path):
    out = help_of("analysis.paper", tmp_path)
    assert out.returncode == 0, out.stderr
    for needed in ("-- KEY=VALUE", "phase_n3", "Paper, intro figure", "measured:", "docs/reference.md"):
        assert needed in out.stdout, needed
