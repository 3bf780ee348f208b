"""The load script in its short mode (CI): a real gunicorn server on a temporary PostgreSQL
database, 50 wijkcoaches logging contacts and 5 researchers browsing for 5 s. Asserts no errors
and that every acknowledged contact is in the database (the count check); timing is the
script's business, not this test's."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not os.environ.get("DATABASE_URL", "").startswith("postgres"),
        reason="DATABASE_URL is not PostgreSQL: the load script needs a PostgreSQL server",
    ),
]


def test_load_quick_has_no_errors_and_stores_every_contact():
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "load.py"), "--quick", "--duration", "5"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["requests"] > 0, figures
    assert figures["errors"] == 0, (figures["errors_by_kind"], result.stderr[-2000:])
    assert figures["contacts_logged"] > 0
    assert figures["count_check_passed"], figures
    assert figures["contacts_in_db"] == figures["contacts_logged"]
