"""Issue 20: no unmarked text in templates and no Dutch string literal outside the catalogue.

Every template (templates/ and the apps' own template folders) is read with Django's template
lexer; a text node a person reads (outside tags, <script> and <style>, and the attributes
people read: placeholder, title, aria-label, alt) must sit inside {% translate %} or
{% blocktranslate %}. Whitespace, punctuation, numbers, symbols and HTML entities are fine, and
so are the few words of ALLOWED_WORDS (names that are the same in every language). Templates
whose text is Dutch by design are listed in DUTCH_BY_DESIGN with the reason.

Python sources: a message passed to ValidationError, messages.*, a form field's label or
help_text, or a model field's verbose_name/help_text that holds Dutch words (tests/dutch_words.py)
and is not wrapped in gettext fails.
"""

from __future__ import annotations

import ast
import html
import re
from pathlib import Path

from django.template.base import Lexer, TokenType

from tests.dutch_words import dutch_words, dutch_words_in_msgid

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = [
    ROOT / "templates",
    *sorted(ROOT.glob("*/templates")),
    *sorted(ROOT.glob("*/*/templates")),
]
#: Templates whose words are not the interface's, and why.
DUTCH_BY_DESIGN = {
    "analysis/report_body.html": "the published effect report stays Dutch (issue 20); its "
    "wording is checked by analysis/reporting/scan.py",
    "analysis/report/_monitor.html": "the published report's monitor section (Dutch by design, "
    "as report_body.html)",
    "503.html": "served by the web server when the database is down: no catalogue, so it says "
    "it in Dutch and in English (lang=en)",
    "drf_spectacular/redoc.html": "the API documentation's shell (drf-spectacular's own)",
}
#: Words that are the same in every language (formats, products, abbreviations, units).
ALLOWED_WORDS = {
    "PDF": "file format",
    "CSV": "file format",
    "Excel": "product",
    "SPSS": "product",
    "Stata": "product",
    "JSON": "file format",
    "XLSX": "file format",
    "SHA": "the hash's name (SHA-256)",
    "Holm": "a multiplicity procedure's proper name",
    "Bonferroni": "a multiplicity procedure's proper name",
    "HTML": "file format",
    "API": "abbreviation",
    "MDE": "abbreviation (minimum detectable effect)",
    "MPG": "abbreviation (multiprobleemgezin), the domain's term",
    "MVP": "abbreviation (meervoudige problematiek), the domain's term",
    "TWFE": "estimator abbreviation",
    "DiD": "estimator abbreviation",
    "CR2": "inference method name",
    "OTS": "term of art",
    "CBS": "the statistics office's name",
    "GM": "the CBS gemeentecode's prefix",
    "T": "a wave's name (T0, T1)",
    "v": "a version (v2)",
    "n": "a count (n = 40)",
    "p": "a p-value",
    "SD": "standard deviation",
    "SMD": "standardised mean difference",
    "QR": "QR code",
    "OTP": "one-time password",
    "ID": "identifier",
    "EUR": "currency",
    "alpha": "the significance level's symbol name",
}
TAG = re.compile(r"<(?:[^>\"']|\"[^\"]*\"|'[^']*')*>", re.S)
READ_ATTRS = re.compile(r"""\s(?:placeholder|title|aria-label|alt)=(?:"([^"]*)"|'([^']*)')""")
WORD = re.compile(r"[^\W\d_]+")
SCRIPT = re.compile(r"<(script|style)\b.*?</\1>", re.S | re.I)


def _templates() -> list[tuple[str, Path]]:
    found = []
    for directory in TEMPLATE_DIRS:
        for path in sorted(directory.rglob("*.html")) + sorted(directory.rglob("*.txt")):
            found.append((path.relative_to(directory).as_posix(), path))
    return found


#: Blocks whose text is not literal interface text: translated, commented out.
OPENERS = {
    "blocktranslate": "endblocktranslate",
    "blocktrans": "endblocktrans",
    "comment": "endcomment",
}


def _literal_text(source: str) -> str:
    """The template's literal text, each tag, variable and translated block replaced by a
    placeholder (so that HTML tags split by template tags still read as tags)."""
    parts, inside = [], 0
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents else ""
            if name in OPENERS:
                inside += 1
            elif name in OPENERS.values():
                inside -= 1
            parts.append("\x00")
        elif token.token_type == TokenType.TEXT and not inside:
            parts.append(token.contents)
        else:
            parts.append("\x00")
    return "".join(parts)


def _unmarked_words(source: str) -> list[str]:
    text = SCRIPT.sub(" ", _literal_text(source))
    read = [a or b for a, b in READ_ATTRS.findall(text)]
    visible = html.unescape(" ".join([TAG.sub(" ", text), *read]))
    return [w for w in WORD.findall(visible) if w not in ALLOWED_WORDS]


def test_the_lexer_check_finds_unmarked_text_and_passes_marked_text():
    marked = '{% load i18n %}<p title="{% translate "Hi" %}">{% translate "Save" %} · 3 &amp; 4</p>'
    marked += '{% blocktranslate %}Hello {{ name }}{% endblocktranslate %}<script>x = "y"</script>'
    marked += "{% comment %}a note{% endcomment %} PDF, CSV"
    assert _unmarked_words(marked) == []
    assert _unmarked_words("<p>Opslaan</p>") == ["Opslaan"]
    assert _unmarked_words('<input placeholder="naam">') == ["naam"]
    assert _unmarked_words("{% if x %}Save{% endif %}") == ["Save"]


def test_no_template_has_unmarked_text():
    assert len(_templates()) >= 80
    found = []
    for name, path in _templates():
        if name in DUTCH_BY_DESIGN:
            continue
        words = _unmarked_words(path.read_text(encoding="utf-8"))
        if words:
            found.append(f"{path.relative_to(ROOT)}: {' '.join(dict.fromkeys(words))}")
    assert found == [], "\n".join(found)


# --- Python sources ---------------------------------------------------------------------------

PY_DIRS = ("study", "analysis", "tracker", "instruments")
MESSAGE_CALLS = {"ValidationError", "PermissionDenied", "Http404"}
MESSAGE_METHODS = {"success", "error", "info", "warning", "add_message"}
TEXT_KEYWORDS = {"label", "help_text", "verbose_name", "verbose_name_plural", "empty_label"}
GETTEXT = {"_", "gettext", "gettext_lazy", "ngettext", "pgettext", "pgettext_lazy", "ngettext_lazy"}
#: Modules whose Dutch literals are the published report's wording (Dutch by design) or data.
PY_DUTCH_BY_DESIGN = ("analysis/reporting/", "analysis/effects/", "analysis/did/", "migrations/")


def _strings(node: ast.AST) -> list[str]:
    """Literal text of an argument that is not wrapped in gettext."""
    if (
        isinstance(node, ast.Call)
        and getattr(node.func, "id", getattr(node.func, "attr", "")) in GETTEXT
    ):
        return []
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [
            v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
        ]
    if isinstance(node, ast.Dict):
        return [s for v in node.values if v is not None for s in _strings(v)]
    return []


def _dutch_literals(source: str) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", None) or getattr(node.func, "attr", "")
        args: list[ast.AST] = []
        if name in MESSAGE_CALLS:
            args = list(node.args[:1])
        elif name in MESSAGE_METHODS and isinstance(node.func, ast.Attribute):
            owner = getattr(node.func.value, "id", "")
            args = list(node.args[1:2]) if owner == "messages" else []
        args += [k.value for k in node.keywords if k.arg in TEXT_KEYWORDS]
        for arg in args:
            for text in _strings(arg):
                if dutch_words(text):
                    found.append(f"line {node.lineno}: {text[:70]!r}")
    return found


def test_the_python_check_finds_a_dutch_message_outside_gettext():
    assert _dutch_literals('raise ValidationError("de datum ontbreekt")') != []
    assert _dutch_literals('messages.success(request, "Opgeslagen voor het gezin")') != []
    assert _dutch_literals('forms.CharField(label="Naam van de wijk")') != []
    assert _dutch_literals('raise ValidationError(_("de datum ontbreekt"))') == []
    assert _dutch_literals('raise ValidationError("the date is missing")') == []


def test_no_dutch_message_literal_outside_the_catalogue():
    found = []
    for directory in PY_DIRS:
        for path in sorted((ROOT / directory).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if any(part in rel for part in PY_DUTCH_BY_DESIGN):
                continue
            found += [f"{rel} {hit}" for hit in _dutch_literals(path.read_text(encoding="utf-8"))]
    assert found == [], "\n".join(found)


# --- msgids: English source --------------------------------------------------------------------

TRANSLATE_TAG = re.compile(
    r"""^(?:translate|trans)\s+(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)')"""
)


def _template_msgids(source: str) -> list[str]:
    msgids, body = [], None
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents else ""
            match = TRANSLATE_TAG.match(token.contents)
            if match:
                msgids.append(match.group(1) or match.group(2))
            elif name in {"blocktranslate", "blocktrans"}:
                body = []
            elif name in {"endblocktranslate", "endblocktrans"} and body is not None:
                msgids.append("".join(body))
                body = None
        elif token.token_type == TokenType.TEXT and body is not None:
            body.append(token.contents)
    return msgids


def _python_msgids(source: str) -> list[str]:
    msgids = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and node.args:
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", "")
            if name in GETTEXT and isinstance(node.args[0], ast.Constant):
                msgids.append(str(node.args[0].value))
    return msgids


def test_the_msgid_check_finds_dutch_in_an_english_msgid():
    assert _template_msgids('{% translate "Typed as anders" %}') == ["Typed as anders"]
    assert dutch_words_in_msgid("Typed as “anders”") == ["anders"]
    assert dutch_words_in_msgid("District (wijk)") == []
    assert _python_msgids('_("per wijk")') == ["per wijk"]


def test_every_msgid_is_english():
    found = []
    for name, path in _templates():
        if name not in DUTCH_BY_DESIGN:
            for msgid in _template_msgids(path.read_text(encoding="utf-8")):
                if dutch_words_in_msgid(msgid):
                    found.append(f"{path.relative_to(ROOT)}: {msgid[:80]!r}")
    for directory in PY_DIRS:
        for path in sorted((ROOT / directory).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if not any(part in rel for part in PY_DUTCH_BY_DESIGN):
                for msgid in _python_msgids(path.read_text(encoding="utf-8")):
                    if dutch_words_in_msgid(msgid):
                        found.append(f"{rel}: {msgid[:80]!r}")
    assert found == [], "\n".join(found)
