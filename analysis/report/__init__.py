"""One self-contained HTML page per run or multirun: `python -m analysis.report DIR` -> DIR/report.html.

The page: report/page.py (`write_report`, `build_page`); its interactive Plotly figures: report/plotly_figures.py;
its script: report/report.js; the CLI: report/__main__.py.
"""
from analysis.report.page import REPORT, build_page, write_report

__all__ = ["REPORT", "build_page", "write_report"]
