"""Every claim's quoted words and named headings, found in the sources' text (issue 22: checks that say what the source
says): `python -m tools.quotes PAPER.md [BLOG.md ...]`.

The paper's and the blog's texts are not in the repository (only the sentences the claims quote are); give them as
markdown files. Each double-quoted fragment of a claim's `quote` (a clause cut with " ... " is several pieces) must occur
verbatim in one of the texts, and each single-quoted heading after "section " in its `source` must be a heading (any case: the
conversion prints some headings in capitals). Compared after markdown emphasis, `$` and line breaks are dropped and
double quotes read as single ones, so a quote may write the source's inner quotes as '...'. Prints what is not found;
exit 1 if anything is.
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

EMPHASIS = re.compile(r"</?u>|(?<!\w)[*_]|[*_](?!\w)|\$")


def normal(text: str) -> str:
    text = EMPHASIS.sub("", text).replace('"', "'").replace("\\leq", "≤").replace("\\le ", "≤ ").replace("\\ ", " ")
    return " ".join(text.split())


def headings(text: str) -> set[str]:
    return {normal(line.lstrip("#")).lower() for line in text.splitlines() if line.startswith("#")}


def fragments(quote: str) -> list[str]:
    return [piece for fragment in re.findall(r'"([^"]+)"', quote) for piece in fragment.split(" ... ") if piece.strip()]


def missing(claims, texts: list[str]) -> list[str]:
    """What the claims quote or name that no text holds, one line each."""
    body, titles = [normal(t) for t in texts], set().union(*(headings(t) for t in texts))
    out = []
    for where, claim in claims:
        out += [f"{where}: quote not found: {piece!r}" for piece in fragments(claim.quote)
                if not any(normal(piece) in b for b in body)]
        out += [f"{where}: heading not found: {h!r}" for h in re.findall(r"'([^']+)'", claim.source.partition("section ")[2])
                if normal(h).lower() not in titles]
    return out


def all_claims():
    from analysis.experiments import MODULES
    return [(module.__name__.rsplit(".", 1)[1], claim) for module in MODULES for claim in module.CLAIMS]


def main(argv: list[str]) -> int:
    absent = [p for p in argv if not Path(p).is_file()]
    if not argv or absent:
        print(f"tools.quotes: give the sources' text files (usage: python -m tools.quotes PAPER.md [BLOG.md ...])"
              f"{'; not a file: ' + ', '.join(absent) if absent else ''}", file=sys.stderr)
        return 2
    problems = missing(all_claims(), [Path(p).read_text() for p in argv])
    print("\n".join(problems) or "every quote and heading found")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
