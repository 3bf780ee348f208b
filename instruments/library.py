"""The shipped instrument definitions (instruments/definitions/*.yaml) and a study's own files
in the same format (pure: no Django)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from instruments.definition import Definition, DefinitionError, read_definition_file

DEFINITIONS_DIR = Path(__file__).resolve().parent / "definitions"
SUFFIXES = (".yaml", ".yml", ".json")


def read_directory(directory: Path) -> list[Definition]:
    """Every definition file of a directory, ordered by code and version; DefinitionError names
    the file of the first problem."""
    found = []
    for path in sorted(Path(directory).iterdir()):
        if path.suffix not in SUFFIXES:
            continue
        try:
            found.append(read_definition_file(path))
        except DefinitionError as error:
            raise DefinitionError([f"{path.name}: {p}" for p in error.problems]) from error
    keys = [(d.code, d.version) for d in found]
    twice = sorted({k for k in keys if keys.count(k) > 1})
    if twice:
        raise DefinitionError([f"{code} v{version} defined twice" for code, version in twice])
    return sorted(found, key=lambda d: (d.code, d.version))


@cache
def shipped() -> tuple[Definition, ...]:
    """The definitions that come with the project."""
    return tuple(read_directory(DEFINITIONS_DIR))


def shipped_definition(code: str, version: int) -> Definition:
    return next(d for d in shipped() if (d.code, d.version) == (code, version))
