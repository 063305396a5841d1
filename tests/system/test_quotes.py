"""tools/quotes.py: a claim's quoted words and named headings are found in the source's text, or reported."""
from __future__ import annotations

from analysis.experiments.claims import Claim
from tools.quotes import fragments, main, missing, normal

TEXT = """# **Basic Results**

The model represents **more features** by having them not be
orthogonal to each other. We see "positive interference" and $n=20;\\ m=5;$ here.
"""


def claim(quote: str, source: str = "P, section 'Basic Results'") -> tuple[str, Claim]:
    return "m", Claim("says", quote, source, "threshold", lambda run: None)


def test_fragments_are_the_double_quoted_pieces_cut_at_ellipses():
    assert fragments('"a b" ... "c ... d" (note)') == ["a b", "c", "d"]
    assert fragments("ours: no quote") == []


def test_emphasis_line_breaks_math_and_inner_quotes_do_not_matter():
    assert normal('x **y**\n z "w" $n=1;\\ m=2$') == "x y z 'w' n=1; m=2"
    assert missing([claim('"represents more features by having them not be orthogonal" ... "\'positive interference\'"'),
                    claim('"n=20; m=5;"')], [TEXT]) == []


def test_no_text_or_a_missing_file_is_one_line_and_exit_2(tmp_path, capsys):
    assert main([]) == 2 and main([str(tmp_path / "absent.md")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and lines[1].endswith("not a file: " + str(tmp_path / "absent.md"))


def test_a_word_changed_or_a_heading_not_in_the_text_is_reported():
    problems = missing([claim('"represents more features by having them orthogonal"'),
                        claim('"We see"', "P, section 'Basic Results' > 'Uniform Superposition'")], [TEXT])
    assert problems == ["m: quote not found: 'represents more features by having them orthogonal'",
                        "m: heading not found: 'Uniform Superposition'"]
