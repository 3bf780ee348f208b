"""Keep the garbage collector's full collections off the request path.

A web process holds a few hundred thousand long-lived objects (modules, classes, URL patterns,
compiled templates, pandas and numpy). CPython's full (oldest-generation) collection walks all
of them: 50-100 ms, started by whichever request happens to allocate past the threshold, which
is what the slowest of a page's requests (its p95) measured. After the first request, when the
code and templates are loaded, one collection and `gc.freeze()` move everything alive into the
permanent generation that collections skip (CPython's advice for long-running servers). Objects
made later are collected as before.
"""

from __future__ import annotations

import gc

_done = False


def freeze_once(**_kwargs) -> None:
    """A `request_finished` receiver: the first call collects and freezes, later calls return."""
    global _done
    if _done:
        return
    _done = True
    gc.collect()
    gc.freeze()
