"""The figures drawn after sweep.run (issue 24, point 3): PNG only, one log line, a complete multirun not redrawn."""
from tests.conftest import run_cli

ARGS = ["-m", "seed=0,1", "sparsity=0.9", "model.n_features=12", "steps=20", "exec.log_every=10", "batch_size=16",
        "exec.progress=false"]


def test_a_complete_multirun_run_again_is_not_redrawn(tmp_path):
    first = run_cli(ARGS, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    (report,) = tmp_path.glob("outputs/multirun/*/report.html")
    assert list(report.parent.glob("figures/*.png")) and not list(report.parent.glob("figures/*.svg"))
    log = first.stdout + first.stderr
    assert "figure:" not in log and log.count("report.html (") == 1 and " MB)" in log  # one line, with the size
    drawn = report.stat().st_mtime_ns
    again = run_cli(ARGS, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "up to date, not redrawn" in again.stdout + again.stderr
    assert report.stat().st_mtime_ns == drawn
