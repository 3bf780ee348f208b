"""The disclosure and wording scan of a rendered report (pure, no Django).

Reads both renderings as a reader would: every count the report tags (``data-count`` in the
HTML, ``#count("…")`` in the Typst source) must be "*" or at least 10; no other whole number 1-9
may appear outside an allow-list (years and dates, T-labels, scale ranges such as (0-10),
version and page numbers, M̄, plan deviations' parameter values, the rule's own "1 tot en met 9", formulas such as G - 1); and no
code name (``[a-z]+_[a-z_]+``) or English word may appear outside the technical appendix.
"""

from __future__ import annotations

import re
from html import unescape

from analysis.reporting.published import MONTHS

SUPPRESSED = "*"
APPENDIX_ID = "bijlage"
CODE_NAME = re.compile(r"\b[a-z]+_[a-z_]+\b")
ENGLISH = re.compile(
    r"\b(run|runs|unit\(s\)|units?|families|family|the|and|with|only|not|Poisson PML)\b"
    r"|unit\(s\)|Poisson PML|\(unit \+ year effects\)"
)
_MONTHS = "|".join(MONTHS)
ALLOWED = [
    re.compile(p)
    for p in (
        r"\bT-?\d+\b",  # T-labels: T-2 … T5
        rf"\b\d{{1,2}} ({_MONTHS}) \d{{4}}\b",  # dates
        r"\b\d{2}-\d{2}-\d{4}\b",
        r"\b\d{4}\b",  # years
        r"\(\d+-\d+\)",  # scale ranges in labels: (0-10), (1-5)
        r"\b\d+-\d+\b",
        r"\b[Vv]ersie \d+\b",  # the report's and the plan's version
        r"M̄\s*=?\s*\d+([.,]\d+)?",  # HonestDiD's M̄ grid
        r"\bM\s*=\s*\d+([.,]\d+)?",
        r"\b1 tot en met 9\b",  # the output rule itself
        r"\bminder dan 10\b",
        r"\bG\s*-\s*1\b",  # degrees of freedom
        r"exp\(b\)\s*-\s*1",
        r"α\s*/\s*m\b",
        r"\bΔ\^\w+",
        r"\b\d+ / \d+\b",  # page numbers of the PDF ("3 / 34")
        r"^\s*\d+(\.\d+)*\s",  # heading numbers of the PDF
        r"\bFiguur \d+\b",
        r"gepland [^,]*, gebruikt [^\s;.]*",  # plan deviations: parameter values, not counts
    )
]
LOOSE_SMALL = re.compile(r"(?<![\d,.\w])-?[1-9](?![\d,.]?\d)(?![\w%])")


def _drop_appendix_html(html: str) -> str:
    start = html.find(f'id="{APPENDIX_ID}"')
    return html if start < 0 else html[: html.rfind("<", 0, start)]


def html_tagged_counts(html: str) -> list[str]:
    return re.findall(r'data-count="([^"]*)"', html)


def html_text(html: str, *, appendix: bool = False) -> str:
    """The reader's text of the HTML report: tags, images and alt texts out, every tagged count
    replaced by a marker (the appendix left out unless asked)."""
    if not appendix:
        html = _drop_appendix_html(html)
    html = re.sub(r'src="data:[^"]*"', "", html)
    html = re.sub(r"<span data-count=\"[^\"]*\"[^>]*>[^<]*</span>", " ⟨n⟩ ", html)
    html = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", unescape(html))


_LITERAL = re.compile(
    r'#count\("((?:[^"\\]|\\.)*)"\)|#"((?:[^"\\]|\\.)*)"|#raw\("(?:[^"\\]|\\.)*"\)'
)


def typst_tagged_counts(source: str) -> list[str]:
    return re.findall(r'#count\("((?:[^"\\]|\\.)*)"\)', source)


def typst_text(source: str, *, appendix: bool = False) -> str:
    """The text of the Typst source as the PDF prints it: its string literals (a tagged count
    as a marker), the appendix left out unless asked."""
    if not appendix:
        cut = source.find('#"Bijlage: technische gegevens"')
        if cut >= 0:
            source = source[:cut]
    parts = []
    for m in _LITERAL.finditer(source):
        if m.group(1) is not None:
            parts.append(" ⟨n⟩ ")
        elif m.group(2) is not None:
            parts.append(m.group(2).replace('\\"', '"').replace("\\\\", "\\"))
    return re.sub(r"\s+", " ", " ".join(parts))


def bad_counts(counts: list[str]) -> list[str]:
    """Tagged counts that break the output rule (anything but "*", "—", 0 or >= 10)."""
    out = []
    for shown in counts:
        if shown in (SUPPRESSED, "—"):
            continue
        value = shown.replace(".", "")
        if not value.isdigit() or 1 <= int(value) <= 9:
            out.append(shown)
    return out


def untagged_small_integers(text: str) -> list[str]:
    """Whole numbers 1-9 outside the allow-list, each with a little context."""
    for pattern in ALLOWED:
        text = pattern.sub(" ", text)
    return [text[max(0, m.start() - 40) : m.end() + 25] for m in LOOSE_SMALL.finditer(text)]


def code_names(text: str) -> list[str]:
    return sorted(set(CODE_NAME.findall(text)))


def english_words(text: str) -> list[str]:
    return sorted({m.group(0) for m in ENGLISH.finditer(text)})


def pdf_text(pdf: bytes) -> list[str]:
    """The text of each page of a PDF (pypdfium2, a pinned dependency)."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        return [document[i].get_textpage().get_text_range() for i in range(len(document))]
    finally:
        document.close()
