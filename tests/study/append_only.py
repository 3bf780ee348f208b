"""Tests that stand in for data written before a change (old allocation rows without blocks,
a planted canary) alter the append-only allocation log: on PostgreSQL its trigger is lifted
for that statement only, as the data migration does."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

TABLE = "study_allocationrecord"


@contextmanager
def allocation_log_guard_lifted() -> Iterator[None]:
    if connection.vendor != "postgresql":
        yield
        return
    # The deferred foreign-key checks of rows inserted in this transaction run first: a table
    # with pending trigger events cannot be altered.
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f'ALTER TABLE "{TABLE}" DISABLE TRIGGER {TABLE}_append_only')
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f'ALTER TABLE "{TABLE}" ENABLE TRIGGER {TABLE}_append_only')
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
