"""Shared by benchmarks/api_load.py and benchmarks/load.py: a throw-away PostgreSQL database, a
seeded study, a real gunicorn server on a free port, and threaded keep-alive HTTP clients.

The server runs the production settings with DEBUG off (benchmarks/_bench_settings.py changes
only what plain HTTP on 127.0.0.1 needs: no HTTPS redirect or secure-only cookies, no TOTP
prompt for the simulated researchers, and a URL configuration with one extra bare endpoint).

`python benchmarks/_server.py seed ...` is the seeding step, run in a child process against the
temporary database; it prints one JSON object with the tokens and ids the clients need.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
DEFAULT_BASE = "postgres://postgres@127.0.0.1:5432"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# --- database ------------------------------------------------------------------------------


def _base_url(url: str) -> str:
    """The server part of a DATABASE_URL (its database name dropped)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


@contextlib.contextmanager
def temporary_database(base: str | None = None) -> Iterator[str]:
    """Create a fresh PostgreSQL database, yield its URL, drop it afterwards."""
    import psycopg

    base = _base_url(base or os.environ.get("DATABASE_URL") or DEFAULT_BASE)
    name = f"tracker_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = base + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    log(f"created database {name}")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        log(f"dropped database {name}")


def count_rows(db_url: str, table: str) -> int:
    import psycopg

    with psycopg.connect(db_url) as conn:
        return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def server_env(db_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="benchmarks._bench_settings",
        PYTHONPATH=str(ROOT),
        DATABASE_URL=db_url,
        DEBUG="0",
        SECRET_KEY=env.get("BENCH_SECRET_KEY", "benchmark-secret-key-" + "x" * 40),
        LINKAGE_KEY="benchmark-linkage-key",
        AUDIT_KEY="benchmark-audit-key",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SITE_URL="http://127.0.0.1",
        DB_CONN_MAX_AGE="600",
    )
    env.pop("CELERY_BROKER_URL", None)  # contact logging enqueues nothing; keep Celery eager
    return env


def prepare_database(db_url: str, *, coaches: int, researchers: int) -> dict:
    """Migrate the temporary database and seed it; returns the seed's tokens and ids."""
    env = server_env(db_url)
    started = time.perf_counter()
    subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"],
        env=env,
        cwd=ROOT,
        check=True,
    )
    log(f"migrated in {time.perf_counter() - started:.1f} s")
    out = subprocess.run(
        [
            PYTHON,
            str(Path(__file__).resolve()),
            "seed",
            "--coaches",
            str(coaches),
            "--researchers",
            str(researchers),
        ],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _seed(coaches: int, researchers: int) -> dict:
    """Runs inside the child process (Django set up): one study, one family per coach."""
    import django

    django.setup()
    from datetime import date

    from django.contrib.auth import get_user_model
    from django.contrib.sessions.backends.db import SessionStore
    from rest_framework.authtoken.models import Token

    from study.catalogue import ensure_global_catalogue
    from study.roles import Role
    from study.services.care import caseload_assign
    from study.services.families import MemberSpec, family_enrol
    from study.services.studies import membership_grant, study_create

    ensure_global_catalogue()
    user_model = get_user_model()

    def user(role: str, name: str):
        # Roles are per study: the coach's comes with the caseload, the researcher's is granted.
        return user_model.objects.create_user(username=name, password=secrets.token_urlsafe(16))

    n_intervention = (coaches + 1) // 2
    study = study_create(
        name="Benchmark study",
        municipality="Almelo",
        start_date=date(2020, 1, 1),
        intervention_cap=max(40, n_intervention),
    )
    eligible = {
        "elig_socio_economic": True,
        "elig_adult_psychosocial": True,
        "elig_child_psychosocial": True,
        "elig_chronic": True,
    }
    coach_rows, family_ids = [], []
    for i in range(coaches):
        coach = user(Role.WIJKCOACH, f"coach{i:03d}")
        family = family_enrol(
            study=study,
            arm_kind="intervention" if i < n_intervention else "comparison",
            intake_date=date(2021, 3, 1),
            allocation="matched",
            eligibility=eligible,
            members=[MemberSpec("adult", 1985), MemberSpec("child", 2012)],
            wijk=f"Wijk {i % 5}",
        )
        caseload_assign(family=family, coach=coach, start_date=date(2021, 3, 1))
        coach_rows.append({"token": Token.objects.create(user=coach).key, "family": family.pk})
        family_ids.append(family.pk)
    sessions = []
    for i in range(researchers):
        researcher = user(Role.RESEARCHER, f"researcher{i:02d}")
        membership_grant(study=study, user=researcher, role=Role.RESEARCHER)
        session = SessionStore()
        session["_auth_user_id"] = str(researcher.pk)
        session["_auth_user_backend"] = "django.contrib.auth.backends.ModelBackend"
        session["_auth_user_hash"] = researcher.get_session_auth_hash()
        session.create()
        sessions.append(session.session_key)
    return {
        "study": study.pk,
        "coaches": coach_rows,
        "families": family_ids,
        "researcher_sessions": sessions,
    }


# --- server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def gunicorn(db_url: str, *, workers: int, threads: int) -> Iterator[str]:
    """Start gunicorn (gthread workers, keep-alive) on a free port; yield its base URL."""
    import requests

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    cmd = [
        PYTHON,
        "-m",
        "gunicorn",
        "tracker.wsgi",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--keep-alive",
        "30",
        "--log-level",
        "warning",
    ]
    proc = subprocess.Popen(cmd, env=server_env(db_url), cwd=ROOT, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with code {proc.returncode}")
            try:
                if requests.get(base + "/bench/bare/", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not answer within 60 s")
            time.sleep(0.3)
        log(f"gunicorn up at {base} ({workers} workers x {threads} threads)")
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


# --- clients -------------------------------------------------------------------------------


@dataclass
class Tally:
    """Latencies (seconds) and outcomes per request kind, shared by the client threads."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    ok: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    error_samples: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, seconds: float, ok: bool, detail: str = "") -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds)
            if ok:
                self.ok[kind] = self.ok.get(kind, 0) + 1
            else:
                self.errors[kind] = self.errors.get(kind, 0) + 1
                if len(self.error_samples) < 5:
                    self.error_samples.append(f"{kind}: {detail}"[:300])


def timed(tally: Tally, kind: str, call: Callable, expect: tuple[int, ...]):
    started = time.perf_counter()
    try:
        response = call()
    except Exception as exc:  # a failed request is an error to count, not a crash
        tally.record(kind, time.perf_counter() - started, False, repr(exc))
        return None
    elapsed = time.perf_counter() - started
    ok = response.status_code in expect
    tally.record(kind, elapsed, ok, f"{response.status_code} {response.text[:200]}")
    return response if ok else None


def run_clients(loops: list[Callable[[threading.Event], None]], duration: float) -> float:
    """Run each loop in its own thread until `duration` seconds pass; returns the wall time."""
    stop = threading.Event()
    threads = [threading.Thread(target=loop, args=(stop,), daemon=True) for loop in loops]
    started = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(duration)
    stop.set()
    for t in threads:
        t.join(timeout=30)
    return time.perf_counter() - started


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float], wall: float) -> dict:
    def ms(x):
        return None if x is None else round(x * 1000, 2)

    return {
        "requests": len(values),
        "rps": round(len(values) / wall, 1) if wall else None,
        "p50_ms": ms(percentile(values, 50)),
        "p95_ms": ms(percentile(values, 95)),
        "p99_ms": ms(percentile(values, 99)),
    }


def contact_payload(family: int) -> dict:
    return {
        "family": family,
        "occurred_at": "2024-05-01T10:00:00+02:00",
        "kind": random.choice(["phone", "home_visit", "video"]),
        "duration_minutes": random.randint(5, 90),
        "initiated_by": random.choice(["family", "coach"]),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="seed a benchmark database (child process)")
    sub = parser.add_subparsers(dest="command", required=True)
    seed = sub.add_parser("seed")
    seed.add_argument("--coaches", type=int, required=True)
    seed.add_argument("--researchers", type=int, required=True)
    args = parser.parse_args(argv)
    print(json.dumps(_seed(args.coaches, args.researchers)))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
