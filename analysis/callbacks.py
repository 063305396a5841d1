"""Hydra callback that draws the figures and writes report.html after training (the engine never imports the analysis).

conf/config.yaml registers it (`hydra.callbacks.figures`). A single run gets its figures when it
ends; a multirun gets one set for the whole sweep dir when every job has ended (all chunks and
groups merged), not one per job. `exec.plots=false` (and a dry run) turns both off. Plotting is imported only
when figures are drawn, so Hydra's start-up stays light.
"""
from __future__ import annotations

import logging
import shlex
import time
from pathlib import Path

from hydra.core.utils import JobStatus
from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from sweep.results import shown

log = logging.getLogger(__name__)


def up_to_date(directory: Path) -> bool:
    """True if directory/report.html is newer than every complete run under it (its summary.json): nothing to redraw."""
    report = directory / "report.html"
    summaries = list(directory.glob("summary.json")) + list(directory.glob("*/summary.json"))
    return report.exists() and bool(summaries) and report.stat().st_mtime >= max(p.stat().st_mtime for p in summaries)


def _draw(directory: Path) -> None:
    """PNG figures but ON_REQUEST (the report embeds them; `python -m analysis.plot DIR` adds those and SVGs) and
    report.html, one log line with the time it took and the report's size."""
    if up_to_date(directory):
        log.info("figures and report up to date, not redrawn: %s", directory / "report.html")
        return
    start = time.perf_counter()
    import matplotlib

    matplotlib.use("Agg")
    from analysis import NoRunsError
    from analysis.config import AnalysisConfig
    from analysis.figures import FIGURES_DIR, ON_REQUEST, plot_run
    from analysis.report import write_report

    try:
        paths = plot_run(directory, AnalysisConfig(formats=("png",)), skip=ON_REQUEST)
        report = write_report(directory)  # analysis/report/: one self-contained page, from the tables just drawn
    except NoRunsError as error:  # e.g. every job failed its config check
        log.warning("no figures: %s", error)
        return
    log.info("%d figures in %s and report %s (%.1f MB) in %.1f s; %s and SVGs: python -m analysis.plot %s",
             len(paths), directory / FIGURES_DIR, report, report.stat().st_size / 2**20, time.perf_counter() - start,
             " and ".join(ON_REQUEST), shlex.quote(str(directory)))


class DrawFigures(Callback):
    def on_run_end(self, config: DictConfig, job_return=None, **kwargs) -> None:
        if not config.exec.plots or config.exec.dry_run or job_return is None or job_return.status != JobStatus.COMPLETED:
            return
        if (job_return.return_value or {}).get("reused"):  # already complete: its figures are there
            return
        _draw(shown(config.hydra.runtime.output_dir))

    def on_multirun_end(self, config: DictConfig, **kwargs) -> None:
        if config.exec.plots and not config.exec.dry_run:
            _draw(shown(config.hydra.sweep.dir))
