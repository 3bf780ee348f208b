"""Keep the first visit of each page and the garbage collector's full collections off the
request path.

A web process holds a few hundred thousand long-lived objects (modules, classes, URL patterns,
compiled templates, pandas and numpy). CPython's full (oldest-generation) collection walks all
of them: 50-100 ms, started by whichever request happens to allocate past the threshold, which
is what the slowest of a page's requests (its p95) measured. After the first request, when the
code is loaded, the project's templates are compiled and each app's process-wide caches filled
(an app config's `warm_up()`, e.g. the shipped instrument definitions), so no later request pays
for that on its first visit of a page (30-180 ms each, measured); then one collection and
`gc.freeze()` move everything alive into the permanent generation that collections skip
(CPython's advice for long-running servers). Objects made later are collected as before.
"""

from __future__ import annotations

import gc
import logging
import sys
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.template import engines

logger = logging.getLogger(__name__)

_done = False


def freeze_once(**_kwargs) -> None:
    """A `request_finished` receiver: the first call warms up, collects and freezes; later
    calls return."""
    global _done
    if _done:
        return
    _done = True
    warm_up()
    gc.collect()
    gc.freeze()


def project_templates() -> list[tuple[object, str]]:
    """(engine, name) of every template file of the project's own template folders (the
    engines' folders and those of the project's apps; not Django's or third parties')."""
    base = Path(settings.BASE_DIR).resolve()
    installed = Path(sys.prefix).resolve()  # the virtual environment may sit in the project
    folders = [Path(d) for engine in engines.all() for d in engine.dirs]
    folders += [Path(config.path) / "templates" for config in apps.get_app_configs()]
    found = []
    for engine in engines.all():
        for folder in folders:
            folder = folder.resolve()
            if (
                not folder.is_dir()
                or not folder.is_relative_to(base)
                or folder.is_relative_to(installed)
            ):
                continue
            for path in sorted(folder.rglob("*.html")):
                found.append((engine, path.relative_to(folder).as_posix()))
    return found


def warm_up() -> int:
    """Compile the project's templates into the engines' template caches and run every app
    config's `warm_up()`; returns the number of templates compiled. A template or an app that
    fails is logged and skipped: its own request reports it as it always did."""
    compiled = 0
    for engine, name in project_templates():
        try:
            engine.get_template(name)
        except Exception:  # a broken template fails on its own page, not here
            logger.warning("template %s not compiled at warm-up", name, exc_info=True)
        else:
            compiled += 1
    for config in apps.get_app_configs():
        warm = getattr(config, "warm_up", None)
        if callable(warm):
            try:
                warm()
            except Exception:  # the app's own request reports it
                logger.warning("warm-up of %s failed", config.label, exc_info=True)
    return compiled
