"""The figures drawn after sweep.run (issue 24, point 3): PNG only, one log line, a complete multirun not redrawn; paths
in the logs relative to the working dir and none of this machine's in the report (point 8)."""
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
    assert str(tmp_path.resolve()) not in log + report.read_text() and "outputs/multirun/" in log
    drawn = report.stat().st_mtime_ns
    again = run_cli(ARGS, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "up to date, not redrawn" in again.stdout + again.stderr
    assert report.stat().st_mtime_ns == drawn


def test_a_single_run_names_its_dir_relative_to_the_working_dir_and_the_report_names_no_path_of_this_machine(tmp_path):
    args = ["sparsity=0.9", "model.n_features=4", "steps=20", "exec.log_every=10", "batch_size=16"]
    here = run_cli([*args, "exec.progress=false"], cwd=tmp_path)
    assert here.returncode == 0, here.stderr
    log = here.stdout + here.stderr
    assert "results in outputs/runs/" in log and str(tmp_path.resolve()) not in log, log
    (report,) = tmp_path.glob("outputs/runs/*/report.html")
    assert str(tmp_path.resolve()) not in report.read_text()
    elsewhere = run_cli([*args, f"hydra.run.dir={tmp_path.resolve() / 'abs'}"], cwd=tmp_path)  # given as an absolute path
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert "results in abs" in elsewhere.stdout + elsewhere.stderr
    page = (tmp_path / "abs" / "report.html").read_text()
    assert str(tmp_path.resolve()) not in page and "<td>directory</td><td>abs (the dir holding this report)" in page
