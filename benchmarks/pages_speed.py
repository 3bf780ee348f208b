"""Speed of every page: every HTML page of every demo role, timed through the test client, with
its query count, beside a page that only renders the layout; exports beside a bare write.

Builds a throw-away database (PostgreSQL with --database-url or DATABASE_URL; SQLite file
otherwise) with N demo studies (the demo seed: 80 families each, five years of data; analysed on
PostgreSQL, as autovacuum would), signs in every demo login (researcher, coaches, gemeente, data
manager), walks the URL conf (pages of the first study, one of its families and waves) and times
each page that answers 200: p50 and p95 over repeated requests, its queries. Goals (issue 21): every page at most 25 queries, p95 below 3x the
p95 of the layout-only page. Exports: rows per second beside a bare pandas / pyreadstat write of
the same rows (goal: at most 2x its time), the study's panel in each format and the instruments'
CSV. Ends with one line of JSON, the worst pages first.

    python benchmarks/pages_speed.py                  # 10 studies, 7 requests per page
    python benchmarks/pages_speed.py --quick          # 1 study, 3 requests per page (CI)
    python benchmarks/pages_speed.py --quick --only 'wave_entry|study_new' --all
"""

from __future__ import annotations

import argparse
import io
import json
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks._bench_db import fresh_database  # noqa: E402

LAYOUT_URL = "/bench/layout/"


def progress(message: str) -> None:
    print(f"  ... {message}", file=sys.stderr, flush=True)


def setup_django(database_url: str | None):
    url, cleanup = fresh_database(database_url, prefix="bench_pages")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="benchmarks._bench_settings",
        DEBUG="0",
        SECRET_KEY="bench-secret",
        LINKAGE_KEY="bench-linkage",
        AUDIT_KEY="bench-audit",
        SITE_URL="http://127.0.0.1",
        ALLOWED_HOSTS="testserver,127.0.0.1",
        DATABASE_URL=url,
        CELERY_BROKER_URL="",
        JOBS_RUNNER="thread",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return url, cleanup


def build(studies: int):
    import study.demo as demo

    base = demo.DEMO_STUDY_NAME
    made = []
    for n in range(studies):
        demo.DEMO_STUDY_NAME = base if n == 0 else f"{base} {n + 1}"
        made.append(demo.seed_demo(seed=demo.DEMO_SEED + n)[0])
    demo.DEMO_STUDY_NAME = base
    return made


def analyse() -> None:
    """PostgreSQL: ANALYZE the freshly seeded tables, as autovacuum does within a minute of a
    bulk load on a production server, so the pages are timed on the plans users get, not on
    those of tables without statistics (a server with autovacuum off, as here, never analyses
    them: a caseload query then read all 66,000 contacts of 10 studies, 50-80 ms)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def routes() -> list[tuple[str, str]]:
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(patterns, prefix="", namespace=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern), p.namespace or namespace)
            elif isinstance(p, URLPattern):
                yield prefix + str(p.pattern), f"{namespace}:{p.name}" if namespace else p.name

    skip = ("admin/", "api/", "static/", "bench/", "i18n/", "accounts/logout")
    return [(r, n or "") for r, n in walk(get_resolver().url_patterns) if not r.startswith(skip)]


def ids_of(study) -> dict[str, int]:
    from study.models import Contact, DataQuery, ImportBatch, Wave

    family = study.families.filter(assignments__isnull=False).order_by("pk").first()
    wave = Wave.objects.filter(family=family).order_by("index").first()
    ids = {"study": study.pk, "family": family.pk, "wave": wave.pk}
    contact = Contact.objects.filter(family=family).first()
    if contact:
        ids["contact"] = contact.pk
    query = DataQuery.objects.filter(wave__family__study=study).first()
    if query:
        ids["query"] = query.pk
    batch = ImportBatch.objects.filter(study=study).first()
    if batch:
        ids["batch"] = batch.pk
    return ids


GROUP = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")


def fill(route: str, ids: dict[str, int]) -> str | None:
    missing = []

    def one(match: re.Match) -> str:
        name = match.group("name")
        if name == "fmt":
            return "csv"
        key = name.removesuffix("_id")
        if key in ids:
            return str(ids[key])
        missing.append(name)
        return "0"

    url = "/" + GROUP.sub(one, route)
    return None if missing else url


def timed(client, url: str, repeat: int):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    seconds, queries, status, kind = [], 0, 0, ""
    for _ in range(repeat):
        # The connection keeps at most 9,000 logged queries: once full, a capture counts 0.
        connection.queries_log.clear()
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(url)
            if getattr(response, "streaming", False):
                b"".join(response.streaming_content)
            seconds.append(time.perf_counter() - start)
        status, queries = response.status_code, len(captured)
        kind = response.get("Content-Type", "").split(";")[0]
        if status != 200:
            break
    return status, queries, seconds, kind


def profiled(client, url: str, target: Path) -> str:
    """One more request of the page under cProfile: the stats file, and the 30 most costly
    functions by cumulative time as text."""
    import cProfile
    import pstats

    profile = cProfile.Profile()
    profile.enable()
    response = client.get(url)
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)
    profile.disable()
    profile.dump_stats(target)
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(30)
    return out.getvalue()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def export_speed(client, study, repeat: int) -> list[dict]:
    """Each export format through the page beside a bare pandas / pyreadstat write of its rows,
    and the instruments' CSV beside a bare pandas write of its rows."""
    import pandas as pd

    from study import exporting

    found = []
    csv_status, _q, _s, _k = timed(client, f"/studies/{study.pk}/export/csv/", 1)
    if csv_status != 200:
        return found
    response = client.get(f"/studies/{study.pk}/export/csv/")
    body = b"".join(response.streaming_content) if response.streaming else response.content
    frame = pd.read_csv(io.BytesIO(body), low_memory=False)
    rows = len(frame)
    for fmt in exporting.FORMATS:
        status, _q, seconds, _k = timed(client, f"/studies/{study.pk}/export/{fmt}/", repeat)
        if status != 200:
            continue
        bare = []
        for _ in range(repeat):
            with tempfile.TemporaryDirectory() as tmp:
                target = Path(tmp) / f"bare.{fmt}"
                start = time.perf_counter()
                if fmt == "csv":
                    frame.to_csv(target, index=False)
                elif fmt == "xlsx":
                    frame.to_excel(target, index=False)
                elif fmt == "sav":
                    import pyreadstat

                    pyreadstat.write_sav(
                        frame.convert_dtypes(dtype_backend="numpy_nullable"), target
                    )
                elif fmt == "parquet":
                    frame.to_parquet(target)
                else:
                    break
                bare.append(time.perf_counter() - start)
        if not bare:
            continue
        found.append(_ratio(fmt, rows, seconds, bare))
    instruments = instruments_csv_speed(client, study, repeat)
    return found + ([instruments] if instruments else [])


def instruments_csv_speed(client, study, repeat: int) -> dict | None:
    """The instruments' CSV (a download too) beside a bare pandas write of its own rows."""
    import pandas as pd

    url = f"/instruments/studies/{study.pk}/export/csv/"
    status, _q, _s, _k = timed(client, url, 1)
    if status != 200:
        return None
    table = pd.read_csv(io.BytesIO(client.get(url).content), low_memory=False)
    status, _q, seconds, _k = timed(client, url, repeat)
    bare = []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            table.to_csv(Path(tmp) / "bare.csv", index=False)
            bare.append(time.perf_counter() - start)
    return _ratio("instr-csv", len(table), seconds, bare) if status == 200 else None


def _ratio(fmt: str, rows: int, seconds: list[float], bare: list[float]) -> dict:
    ours, theirs = statistics.median(seconds), statistics.median(bare)
    return {
        "format": fmt,
        "rows": rows,
        "rows_per_s": round(rows / ours),
        "bare_rows_per_s": round(rows / theirs),
        "ratio": round(ours / theirs, 2),
        "goal_met": ours <= 2 * theirs,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--studies", type=int)
    parser.add_argument("--repeat", type=int)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or None)
    parser.add_argument("--only", help="time only pages whose name matches this regex")
    parser.add_argument("--all", action="store_true", help="print every page, not the worst 25")
    parser.add_argument(
        "--profile",
        metavar="DIR",
        help="also profile each timed page once (cProfile): DIR/<page>-<role>.prof and .txt",
    )
    args = parser.parse_args()
    only = re.compile(args.only) if args.only else None
    studies = args.studies or (1 if args.quick else 10)
    repeat = args.repeat or (3 if args.quick else 7)
    url, cleanup = setup_django(args.database_url)
    try:
        from django.test import Client

        from study.demo import DEMO_USERS

        progress(f"seeding {studies} demo studies on {url.split('://')[0]}")
        made = build(studies)
        analyse()
        first = made[0]
        ids = ids_of(first)
        from django.contrib.auth import get_user_model

        users = {u.username: u for u in get_user_model().objects.filter(username__in=DEMO_USERS)}
        pages = []
        layout_p95 = []
        for username in sorted(users):
            client = Client()
            client.force_login(users[username])
            _s, layout_queries, layout_s, _k = timed(client, LAYOUT_URL, repeat * 2)
            layout_p95.append(pct(layout_s, 0.95))
            for route, name in routes():
                page_url = fill(route, ids)
                if page_url is None or (only and not only.search(name)):
                    continue
                status, queries, seconds, kind = timed(client, page_url, repeat)
                if status != 200 or len(seconds) < repeat:
                    continue
                if args.profile:
                    folder = Path(args.profile)
                    folder.mkdir(parents=True, exist_ok=True)
                    stem = f"{name.replace(':', '_')}-{username}"
                    text = profiled(client, page_url, folder / f"{stem}.prof")
                    (folder / f"{stem}.txt").write_text(text)
                pages.append(
                    {
                        "page": name,
                        "url": page_url,
                        "role": username,
                        "queries": queries,
                        "p50_ms": round(pct(seconds, 0.5) * 1000, 1),
                        "p95_ms": round(pct(seconds, 0.95) * 1000, 1),
                        # downloads (CSV, SAV, ...) are judged against a bare write instead
                        "html": kind == "text/html",
                    }
                )
            progress(f"{username}: {sum(p['role'] == username for p in pages)} pages")
        layout = statistics.median(layout_p95) * 1000
        for page in pages:
            page["vs_layout_p95"] = round(page["p95_ms"] / layout, 1)
        researcher = Client()
        researcher.force_login(users["onderzoeker"])
        # the exports beside a bare write: always, or when --only names them
        timed_exports = not only or only.search("export")
        exports = export_speed(researcher, first, max(repeat // 2, 2)) if timed_exports else []
    finally:
        cleanup()

    worst = sorted(pages, key=lambda p: p["p95_ms"], reverse=True)
    html = [p for p in pages if p["html"]]
    over_time = [p for p in html if p["vs_layout_p95"] >= 3]
    over_queries = [p for p in pages if p["queries"] > 25]
    print()
    print(
        f"pages, {studies} studies of 80 families ({url.split('://')[0]}), {repeat} requests each"
    )
    print(f"  layout-only page p95 {layout:.1f} ms (queries {layout_queries})")
    print(f"  {'page':<34}{'role':<12}{'queries':>8}{'p50 ms':>9}{'p95 ms':>9}{'x layout':>9}")
    for p in worst if args.all else worst[:25]:
        print(
            f"  {p['page']:<34}{p['role']:<12}{p['queries']:>8}{p['p50_ms']:>9}{p['p95_ms']:>9}"
            f"{p['vs_layout_p95']:>9}{'' if p['html'] else '  (download)'}"
        )
    print(f"  HTML pages at or over 3x the layout's p95: {len(over_time)} of {len(html)}")
    print(f"  pages over 25 queries: {len(over_queries)}")
    for e in exports:
        print(
            f"  export {e['format']:<10}{e['rows']:>7} rows  {e['rows_per_s']:>9} rows/s, bare write "
            f"{e['bare_rows_per_s']:>9} rows/s = {e['ratio']}x (goal <= 2x: "
            f"{'met' if e['goal_met'] else 'NOT met'})"
        )
    figures = {
        "benchmark": "pages_speed",
        "database": url.split("://")[0],
        "studies": studies,
        "pages": len(pages),
        "html_pages": len(html),
        "layout_p95_ms": round(layout, 1),
        "over_3x_layout": len(over_time),
        "over_25_queries": len(over_queries),
        "worst": worst[:15],
        "most_queries": sorted(pages, key=lambda p: p["queries"], reverse=True)[:10],
        "exports": exports,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
