"""The README says where things are and how to run them: its table of parts names every Python
package and every top-level directory of the tree (and nothing that is not there), and every
path, management command, Celery task and setting it mentions elsewhere still exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
#: The README's prose and tables, without its fenced code blocks (their backticks pair wrongly).
PROSE = re.sub(r"```.*?```", "", README, flags=re.DOTALL)
#: Directories that hold no package of their own even when they have an __init__.py.
NOT_PACKAGES = {"migrations", "management", "commands"}
TICKED = re.compile(r"`([^`]+)`")


def _ignored_by_git() -> set[str]:
    """The plain top-level names .gitignore lists (``/var/``, ``.venv/``, ``db.sqlite3``)."""
    names = set()
    for line in (ROOT / ".gitignore").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and not any(c in line for c in "*?["):
            names.add(line.strip("/"))
    return names


IGNORED = _ignored_by_git() | {".git"}


def _parts_table() -> list[tuple[list[str], str]]:
    """(paths named in the first column, what it is for) for each row of the table of parts."""
    section = README.split("## What each part does", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        first, purpose = line.strip("|").split("|", 1)
        rows.append((TICKED.findall(first), purpose.strip().rstrip("|").strip()))
    return rows


def _named_parts() -> set[str]:
    return {path.rstrip("/") for paths, _ in _parts_table() for path in paths}


def _top_level_directories() -> set[str]:
    return {
        p.name
        for p in ROOT.iterdir()
        if p.is_dir()
        and p.name not in IGNORED
        and (not p.name.startswith(".") or p.name == ".ci")
        and not p.name.startswith("__")
    }


def _python_packages() -> set[str]:
    packages = set()
    for init in ROOT.rglob("__init__.py"):
        relative = init.parent.relative_to(ROOT)
        parts = relative.parts
        if not parts or parts[0] in IGNORED or parts[0] == "tests" or parts[0].startswith("."):
            continue
        if NOT_PACKAGES & set(parts) or "__pycache__" in parts:
            continue
        packages.add(relative.as_posix())
    return packages


def _looks_like_a_path(token: str) -> bool:
    first = token.split("/", 1)[0]
    return (
        "/" in token
        and " " not in token
        and not token.startswith(("/", "http"))
        and "<" not in token
        and "…" not in token
        and (first in _top_level_directories() or first in ("manage.py",))
    )


def test_the_table_names_every_package_and_top_level_directory():
    named = _named_parts()
    missing = (_python_packages() | _top_level_directories()) - named
    assert not missing, f"README's table of parts does not name: {sorted(missing)}"


def test_every_part_the_table_names_exists_and_says_what_it_is_for():
    for paths, purpose in _parts_table():
        assert paths, "a row of the table of parts without a path"
        for path in paths:
            assert (ROOT / path).exists(), f"README names {path}, which does not exist"
        assert len(purpose) > 20, f"{paths}: say what it is for"


def test_the_table_finds_what_it_must():
    """The parser itself: the table is found and has the rows this test relies on."""
    named = _named_parts()
    assert {"tracker", "study/imports", "analysis/did", "tests", ".ci"} <= named


def test_every_path_the_readme_mentions_exists():
    words = {word for ticked in TICKED.findall(PROSE) for word in ticked.split()}
    tokens = {word.split("::")[0].rstrip(",;:)") for word in words}
    paths = sorted(t for t in tokens if _looks_like_a_path(t))
    assert len(paths) > 20  # the README names many paths: the pattern still finds them
    missing = [p for p in paths if not (ROOT / p).exists()]
    assert not missing, f"README mentions paths that do not exist: {missing}"


def test_every_test_the_readme_names_exists():
    named = set(re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", PROSE))
    assert named, "the README names tests by file::name"
    missing = [
        f"{path}::{name}"
        for path, name in sorted(named)
        if not re.search(rf"^def {name}\(", (ROOT / path).read_text(encoding="utf-8"), re.M)
    ]
    assert not missing, f"README names tests that do not exist: {missing}"


def _mentioned_commands() -> set[str]:
    commands = set(re.findall(r"manage\.py (\w+)", README))
    listing = PROSE.split("Management commands:", 1)[1].split("\n\n", 1)[0]
    commands |= {t.split()[0] for t in TICKED.findall(listing)}
    return commands


def test_every_management_command_the_readme_mentions_exists():
    commands = _mentioned_commands()
    assert {"seed_demo", "reconcile_jobs", "import_registry"} <= commands
    unknown = commands - set(get_commands())
    assert not unknown, f"README mentions commands that do not exist: {sorted(unknown)}"


def test_every_celery_task_the_readme_mentions_is_registered():
    from tracker.celery import app

    app.loader.import_default_modules()
    named = set(re.findall(r"`((?:study|analysis|tracker)\.tasks\.\w+)`", PROSE))
    assert named, "the README names the beat tasks"
    unknown = named - set(app.tasks)
    assert not unknown, f"README mentions tasks that do not exist: {sorted(unknown)}"
    beat = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert beat <= set(app.tasks)


def _read_by_the_code(name: str) -> bool:
    """``name`` is a string literal in the project's code (an environment variable it reads)."""
    for top in ("tracker", "study", "analysis", "tests", "benchmarks"):
        for path in (ROOT / top).rglob("*.py"):
            if f'"{name}"' in path.read_text(encoding="utf-8"):
                return True
    return False


@pytest.mark.parametrize(
    "name", sorted(set(re.findall(r"`([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)`", PROSE)))
)
def test_every_setting_the_readme_mentions_is_declared(name):
    """A setting of tracker/settings.py, or an environment variable the code reads."""
    assert hasattr(settings, name) or _read_by_the_code(name), f"{name} is declared nowhere"
