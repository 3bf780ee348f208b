"""The effect report as a PDF, compiled with Typst (a pinned pip package, no system libraries).

One report, two renderings: the PDF is typeset from the very HTML the report context renders
to (analysis/report_body.html), element by element, so it carries every section, table, figure
and note the HTML carries. Every piece of text reaches Typst as a string literal (``lit``),
never as markup: a label with ``//``, ``#``, ``$``, brackets or a newline cannot break or inject
anything. Every published count stays tagged (``#count("…")`` in the Typst source, from the
``data-count`` spans of the HTML).

Layout: a title page (study, municipality, period, version, date, status), a table of contents,
page numbers, figures with their captions kept together (a figure is one unbreakable block and
floats to the nearest place that fits, so pages are not left half empty), a tagged PDF (Typst's
PDF tags, PDF/UA-1 where it accepts the document) with the plots' alternative texts.
"""

from __future__ import annotations

import base64
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from pathlib import Path

from analysis.reporting.context import report_context
from analysis.reporting.html import report_html_from_context

#: Elements whose content is laid out inline (text runs).
INLINE = {"strong", "b", "em", "i", "span", "code", "a", "sub", "sup", "br", "small"}
HEADINGS = {"h2": 1, "h3": 2, "h4": 3, "h5": 4, "h6": 4}


class ReportRenderError(Exception):
    """The PDF could not be typeset; ``field`` names the part of the report that broke it."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def lit(text: object) -> str:
    """Text as a Typst string literal (every character escaped; newlines become spaces)."""
    text = re.sub(r"\s+", " ", str(text))
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ord(ch) < 32 or 0xD800 <= ord(ch) <= 0xDFFF or ord(ch) in (0x2028, 0x2029):
            out.append(" ")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


@dataclass
class Node:
    tag: str
    attrs: dict = field(default_factory=dict)
    children: list = field(default_factory=list)  # Node or str


class _Tree(HTMLParser):
    VOID = {"img", "br", "hr", "meta", "input"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("root")
        self.stack = [self.root]

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: (v if v is not None else "") for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in self.VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag, attrs):
        self.stack[-1].children.append(Node(tag, {k: (v or "") for k, v in attrs}))

    def handle_endtag(self, tag):
        for i in range(len(self.stack) - 1, 0, -1):
            if self.stack[i].tag == tag:
                del self.stack[i:]
                return

    def handle_data(self, data):
        self.stack[-1].children.append(data)


def _text_of(node) -> str:
    if isinstance(node, str):
        return node
    return "".join(_text_of(c) for c in node.children)


class _Typst:
    """Walks the report's HTML tree and writes Typst source."""

    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.images = 0
        self.where = "report"

    # inline ------------------------------------------------------------------------------
    def inline(self, nodes) -> str:
        return "".join(self._inline_one(n) for n in nodes)

    def _inline_one(self, n) -> str:
        if isinstance(n, str):
            return (f"#{lit(unescape(n))}" if n.strip() else " ") if n else ""
        wrap = {
            "strong": "strong",
            "b": "strong",
            "em": "emph",
            "i": "emph",
            "sub": "sub",
            "sup": "sup",
        }
        if n.tag == "br":
            return " \\ "
        if "data-count" in n.attrs:
            return f"#count({lit(n.attrs['data-count'])})"
        if n.tag in wrap:
            return f"#{wrap[n.tag]}[{self.inline(n.children)}]"
        if n.tag == "code":
            return f"#raw({lit(_text_of(n))})"
        if n.tag == "span" and "muted" in n.attrs.get("class", ""):
            return f"#text(fill: luma(90))[{self.inline(n.children)}]"
        if n.tag in ("ul", "ol", "table", "figure", "img", "p", "div"):
            return self.block(n)
        return self.inline(n.children)

    # blocks ------------------------------------------------------------------------------
    def blocks(self, nodes) -> str:
        out: list[str] = []
        run: list = []
        for n in nodes:
            if isinstance(n, str) or n.tag in INLINE:
                run.append(n)
                continue
            if run and "".join(_text_of(r) for r in run).strip():
                out.append(self.inline(run) + "\n")
            run = []
            out.append(self.block(n))
        if run and "".join(_text_of(r) for r in run).strip():
            out.append(self.inline(run) + "\n")
        return "".join(out)

    def block(self, n: Node) -> str:
        if n.attrs.get("id"):
            self.where = n.attrs["id"]
        handlers = {
            "h1": lambda: f'#text(size: 22pt, weight: "bold")[{self.inline(n.children)}]\n\n',
            "header": lambda: self.title_page(n),
            "nav": lambda: '#outline(title: "Inhoud", depth: 2)\n#pagebreak()\n',
            "p": lambda: self.paragraph(n),
            "ul": lambda: self.items(n),
            "ol": lambda: self.items(n),
            "table": lambda: self.table(n),
            "figure": lambda: self.figure(n),
            "img": lambda: self.image(n, caption=None),
        }
        if n.tag in HEADINGS:
            return f"\n#heading(level: {HEADINGS[n.tag]})[{self.inline(n.children)}]\n"
        if n.tag in handlers:
            return handlers[n.tag]()
        return self.blocks(n.children)

    def paragraph(self, n: Node) -> str:
        klass = n.attrs.get("class", "")
        body = self.inline(n.children)
        if "muted" in klass:
            return f"\n#text(size: 8.5pt, fill: luma(70))[{body}]\n\n"
        if "warning" in klass:
            return f'\n#block(fill: rgb("#fff4e5"), inset: 5pt, width: 100%)[{body}]\n\n'
        return f"\n{body}\n\n"

    def items(self, n: Node) -> str:
        items = [c for c in n.children if isinstance(c, Node) and c.tag == "li"]
        fn = "enum" if n.tag == "ol" else "list"
        return f"#{fn}(" + ", ".join(f"[{self.blocks(li.children)}]" for li in items) + ")\n"

    def title_page(self, n: Node) -> str:
        body = self.blocks(n.children)
        return (
            "#page(numbering: none)[#v(25%)\n"
            f'{body}\n#v(1fr)\n#text(size: 8pt)[#"Effectrapportage van de Effectstudie-tracker"]]\n'
            "#counter(page).update(1)\n"
        )

    def table(self, n: Node) -> str:
        rows = []

        def collect(node):
            for c in node.children:
                if isinstance(c, Node):
                    if c.tag == "tr":
                        rows.append((c, node.tag == "thead"))
                    elif c.tag in ("thead", "tbody", "tfoot"):
                        collect(c)

        collect(n)
        if not rows:
            return ""
        width = max(
            sum(int(c.attrs.get("colspan") or 1) for c in r.children if isinstance(c, Node))
            for r, _ in rows
        )
        header, body = [], []
        for r, in_head in rows:
            cells = []
            for c in (c for c in r.children if isinstance(c, Node) and c.tag in ("td", "th")):
                content = self.inline(c.children)
                if c.tag == "th" or in_head:
                    content = f"#strong[{content}]"
                span = int(c.attrs.get("colspan") or 1)
                cell = f"table.cell(colspan: {span})[{content}]" if span > 1 else f"[{content}]"
                cells.append(cell)
            (header if in_head else body).append(cells)
        head = f"table.header({', '.join(header[0])}), " if header else ""
        flat = ", ".join(cell for row in body for cell in row)
        return (
            f"\n#table(columns: {width}, stroke: 0.4pt + luma(180), inset: 3.5pt, {head}{flat})\n\n"
        )

    def image(self, n: Node, caption: str | None, *, fixed: bool = False) -> str:
        src = n.attrs.get("src", "")
        if not src.startswith("data:image/png;base64,"):
            return ""
        self.images += 1
        name = f"plot{self.images}.png"
        Path(self.tmp, name).write_bytes(base64.b64decode(src.split(",", 1)[1]))
        alt = lit(n.attrs.get("alt") or "grafiek")
        img = f'image("{name}", width: 75%, alt: {alt})'
        if caption is None:
            return f"#figure({img})\n"
        place = "" if fixed else ", placement: auto"
        return f"\n#figure({img}, caption: [{caption}]{place})\n\n"

    def figure(self, n: Node) -> str:
        img = next((c for c in n.children if isinstance(c, Node) and c.tag == "img"), None)
        cap = next((c for c in n.children if isinstance(c, Node) and c.tag == "figcaption"), None)
        caption = self.inline(cap.children) if cap is not None else ""
        fixed = "data-fixed" in n.attrs
        return self.image(img, caption, fixed=fixed) if img is not None else ""


PREAMBLE = """#set document(title: {title}, author: {author})
#set page(paper: "a4", margin: (x: 2cm, y: 2.2cm), numbering: "1 / 1", number-align: center)
#set text(lang: "nl", region: "nl", size: 9.5pt)
#set par(justify: false, leading: 0.6em)
#set heading(numbering: "1.1")
#show heading.where(level: 1): it => {{ v(0.6em); text(size: 14pt, it); v(0.2em) }}
#show heading.where(level: 2): set text(size: 11.5pt)
#show heading.where(level: 3): set text(size: 10pt)
#show heading.where(level: 4): set text(size: 9.5pt, style: "italic")
#show heading: set block(sticky: true)
#show figure: set block(breakable: false)
#show figure.caption: set text(size: 8.5pt)
#let count(shown) = shown
"""


def typst_source(html: str, tmp: Path, *, title: str, author: str) -> str:
    """The Typst source of a report's HTML (images written to ``tmp``)."""
    tree = _Tree()
    tree.feed(html)
    tree.close()
    writer = _Typst(tmp)
    body = writer.blocks(tree.root.children)
    return PREAMBLE.format(title=lit(title), author=lit(author)) + body


def compile_pdf(source_dir: Path) -> bytes:
    import typst

    main = str(Path(source_dir, "report.typ"))
    try:
        return typst.compile(main, pdf_standards="ua-1")
    except typst.TypstError:
        # PDF/UA-1 refuses some documents (it is strict about every element): still tagged.
        return typst.compile(main)


def _broken_field(context: dict, tmp: Path) -> str:
    """Which user field breaks the typesetting: compile each one alone."""
    import typst

    candidates = [("study.name", getattr(context.get("study"), "name", ""))]
    for q in context.get("questions", []):
        candidates.append((f"question {q.get('code')}: text", q.get("text", "")))
        for o in q.get("outcomes", []):
            candidates.append((f"outcome {o.get('code')}: label", o.get("label", "")))
    for name, value in candidates:
        path = Path(tmp, "probe.typ")
        path.write_text(PREAMBLE.format(title=lit("x"), author=lit("x")) + f"#{lit(value)}\n")
        try:
            typst.compile(str(path))
        except typst.TypstError:
            return name
    return "report"


def report_pdf_from_context(context: dict, html: str) -> bytes:
    """Typeset the report; raises ReportRenderError naming the field that broke it."""
    return report_pdf_from_html(html, study=context.get("study"), context=lambda: context)


def report_pdf_from_html(html: str, *, study, context: Callable[[], dict]) -> bytes:
    """Typeset a report's HTML (as rendered from its context, e.g. the stored published
    rendering); ``context`` is built only when typesetting fails, to name the field that broke
    it (ReportRenderError)."""
    import typst

    with tempfile.TemporaryDirectory() as tmp:
        source = typst_source(
            html,
            Path(tmp),
            title=f"Effectrapportage {getattr(study, 'name', '')}",
            author=getattr(study, "municipality", "") or "Effectstudie-tracker",
        )
        Path(tmp, "report.typ").write_text(source, encoding="utf-8")
        try:
            return compile_pdf(Path(tmp))
        except typst.TypstError as exc:
            raise ReportRenderError(str(exc), field=_broken_field(context(), Path(tmp))) from exc


def report_typst_source(*, run, version: int, previous=None, published: bool = False) -> str:
    """The Typst source of a run's report (for tests and the disclosure scan)."""
    context = report_context(run=run, version=version, previous=previous, published=published)
    html = report_html_from_context(context)
    with tempfile.TemporaryDirectory() as tmp:
        return typst_source(html, Path(tmp), title="t", author="a")


def report_pdf(*, run, version: int, previous=None, published: bool = False) -> bytes | None:
    """The report's PDF (Typst, from the same context and HTML as the HTML report)."""
    context = report_context(run=run, version=version, previous=previous, published=published)
    return report_pdf_from_context(context, report_html_from_context(context))
