"""report.html: what it embeds (checked against the stored tables), the CLI, and the page in a real headless Chromium."""
from __future__ import annotations

import base64
import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import analysis
from analysis.phase import PHASES
from analysis.report import write_report
from tests.browser import CELL_POINT, Browser
from tests.conftest import train_run

N, M = 2, 1  # features, hidden dimensions


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A small phase-change run (n=2, m=1: 2 densities x 2 relative importances x 3 seeds), trained without figures:
    write_report draws them (and stores phase_cells.parquet) first."""
    run = train_run(tmp_path_factory.mktemp("report") / "run",
                {"model": {"n_features": N, "n_hidden": M}, "importance": {"kind": "extra", "relative": [0.3, 3.0]},
                 "density": [1.0, 0.05], "seed": [0, 1, 2], "steps": 300, "batch_size": 256, "exec": {"log_every": 100}})
    path = write_report(run)
    return run, path, path.read_text()


def embedded(page: str) -> dict:
    start = page.index("const REPORT = ") + len("const REPORT = ")
    return json.loads(page[start:page.index(";</script>", start)])


def float32(text: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), "<f4")


def test_the_page_is_self_contained_and_says_what_was_run(report):
    run, path, page = report
    assert path == run / "report.html" and (run / "figures" / "phase.png").exists()
    assert not re.search(r"<script[^>]*\bsrc=|<link\b|<iframe\b", page), "the page loads something from outside"
    images = re.findall(r"<img [^>]*src='([^']{0,30})", page)
    assert images and all(src.startswith("data:image/png;base64,") for src in images)
    assert {"phase", "weights", "dims_per_feature", "loss_curves"} <= set(re.findall(r"<img alt='(\w+)'", page))
    for fact in ("n=2, m=1 relu: 2 density x 2 relative x 3 seed = 12 models", "300 (batch 256)", "model-steps/s",
                 "diverged models</td><td>none"):
        assert fact in page, fact


def test_plotly_js_is_embedded_packed(report):
    """plotly.js gzipped and base64'd (report/page.py UNPACK): 2.0 MB instead of 4.8 MB, the very same script."""
    import gzip

    import plotly.offline

    _, _, page = report
    packed = re.search(r"atob\('([A-Za-z0-9+/=]+)'\)", page).group(1)
    assert gzip.decompress(base64.b64decode(packed)).decode("utf-8") == plotly.offline.get_plotlyjs()
    assert len(page) < len(plotly.offline.get_plotlyjs())  # the whole page: smaller than the bundle unpacked


def test_every_cell_carries_its_seeds_best_model_and_hover_numbers(report):
    run, _, page = report
    cells = pd.read_parquet(run / "phase_cells.parquet")  # what plot_run stored; the page must show exactly that
    group = embedded(page)["groups"][0]
    (phase,) = group["phase"]
    assert len(phase["cells"]) == len(cells) == 4
    W, b = float32(group["weights"]["W"]).reshape(-1, M, N), float32(group["weights"]["b"]).reshape(-1, N)
    weights = analysis.load_weights(run)
    for row, cell in zip(cells.itertuples(), phase["cells"]):
        assert len(cell["seeds"]) == row.n_seeds == 3
        assert group["seeds"][cell["best"]] == row.best_seed == cell["seeds"][0][0]  # best first
        assert cell["optimum"] == pytest.approx(row.loss_optimal, rel=1e-6)
        fractions = [np.mean([s[1] == k for s in cell["seeds"]]) for k in range(len(PHASES))]
        assert fractions == pytest.approx([getattr(row, f"frac_{p}") for p in PHASES])
        W_best, b_best = analysis.model_weights(weights, row.best_run, row.best_model_id)
        np.testing.assert_allclose(W[cell["best"]], W_best, rtol=1e-6)
        np.testing.assert_allclose(b[cell["best"]], b_best, rtol=1e-6)
    hovered = [c for line in phase["figure"]["data"][0]["customdata"] for c in line if c]  # the best-seed panel
    assert sorted(c[-1] for c in hovered) == list(range(len(cells)))
    for c in hovered:  # density, relative, phase, ..., best seed, its loss, the optimum
        row = cells.iloc[c[-1]]
        assert c[:3] == [pytest.approx(row.density, rel=1e-4), pytest.approx(row.relative, rel=1e-4), row.phase.replace("_", " ")]
        assert c[5:8] == [row.best_seed, pytest.approx(row.best_loss, rel=1e-4), pytest.approx(row.loss_optimal, rel=1e-4)]


def test_cli(report, tmp_path):
    run, _, _ = report
    done = subprocess.run([sys.executable, "-m", "analysis.report", str(run)], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == str(run / "report.html")
    bad = subprocess.run([sys.executable, "-m", "analysis.report", str(tmp_path / "missing")],
                         capture_output=True, text=True, timeout=120, check=False)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "missing" in bad.stderr


@pytest.mark.skipif(Browser.binary() is None, reason="no chromium binary on PATH (.ci/run installs Debian's chromium)")
def test_the_page_in_headless_chromium(report):
    run, path, _ = report
    cells = pd.read_parquet(run / "phase_cells.parquet")
    with Browser() as browser:
        browser.open(path.as_uri())
        drawn = "document.querySelectorAll('#phase-0-0 .heatmaplayer image').length"
        assert browser.wait_for(f"{drawn} === 3 && {drawn}"), "the three phase panels are not drawn"
        cell = cells.iloc[3]
        x, y = browser.evaluate(CELL_POINT.format(div="phase-0-0", density=cell["density"], relative=cell["relative"]))
        browser.mouse("move", x, y)
        hover = browser.wait_for("document.querySelector('#phase-0-0 .hoverlayer .hovertext')?.textContent")
        assert f"density {cell['density']:.4g}" in hover and f"best seed (seed {cell['best_seed']})" in hover, hover
        assert "exact loss" in hover and "vs optimum" in hover and f"of {cell['n_seeds']}" in hover, hover

        browser.mouse("click", x, y)
        side = "document.getElementById('phase-0-0-side')"
        assert browser.wait_for(f"{side}.querySelectorAll('tr.seed').length") == cell["n_seeds"]
        assert browser.wait_for(f"{side}.querySelector('.model').data?.length") == N + 2  # N feature arrows, W^T W, b
        assert browser.evaluate(f"{side}.querySelector('tr.shown').textContent").startswith(f"{cell['best_seed']} (best)")
        browser.evaluate(f"{side}.querySelectorAll('tr.seed')[2].click()")  # another seed's model
        assert "(best)" not in browser.evaluate(f"{side}.querySelector('tr.shown').textContent")

        x, y = browser.evaluate("""(() => {
          const gd = document.getElementById('dims-0'); gd.scrollIntoView();
          const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis, box = gd.getBoundingClientRect(), p = gd._fullData[0];
          return [box.left + xa._offset + xa.c2p(p.x[3]), box.top + ya._offset + ya.c2p(p.y[3])]; })()""")
        browser.mouse("move", x, y)
        assert browser.wait_for("document.querySelector('#dims-0-side .model')?.data?.length") == N + 2
        assert browser.errors == [], browser.errors
