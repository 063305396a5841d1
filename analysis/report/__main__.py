"""`python -m analysis.report DIR` -> DIR/report.html (analysis/report/page.py).

A dir without a complete run: one line, exit 2."""
from __future__ import annotations

import argparse
import sys

from analysis import NoRunsError
from analysis.report.page import __doc__ as PAGE_DOC
from analysis.report.page import write_report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m analysis.report", description=PAGE_DOC.splitlines()[0])
    parser.add_argument("dir", help="a run dir or a multirun dir (runs found recursively)")
    args = parser.parse_args(argv)
    try:
        path = write_report(args.dir)
    except NoRunsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
