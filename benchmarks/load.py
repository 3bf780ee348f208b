"""Load test (issue 8): 50 simulated wijkcoaches logging contacts and 5 researchers browsing
dashboards against a real server (gunicorn + PostgreSQL) for 60 s, stopping by itself.

Each wijkcoach (token auth) logs a contact for the family on their caseload with
POST /api/contacts/ and now and then reloads the caseload (GET /api/families/); each researcher
(a seeded session) opens the study dashboard, the waves-due list and a family page. Both wait
a random think time between requests (exponential, --think / --researcher-think mean seconds).
Afterwards every contact the server acknowledged (201) must be in the database: the script
counts the rows (count check).

The database is a temporary one on the PostgreSQL server of DATABASE_URL (default
postgres://postgres@127.0.0.1:5432), created, migrated, seeded and dropped by the script.

Usage:  python benchmarks/load.py [--quick] [--duration S] [--coaches N] [--researchers N]
--quick runs 10 s. Goal: 0 errors, p95 under 200 ms, every logged contact stored.
Prints requests per second, p50/p95/p99 latency and the error count; the last line of output
is one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _server as srv

GOAL_P95_MS = 200.0


def coach_loop(base: str, coach: dict, tally: srv.Tally, think: float, seed: int):
    import requests

    rng = random.Random(seed)

    def loop(stop):
        session = requests.Session()  # keep-alive, like a phone keeping its connection
        session.headers["Authorization"] = f"Token {coach['token']}"
        stop.wait(rng.uniform(0, think))  # users arrive spread out, not all in the same ms
        n = 0
        while not stop.is_set():
            if n % 5 == 4:
                srv.timed(
                    tally,
                    "caseload",
                    lambda: session.get(base + "/api/families/", timeout=30),
                    (200,),
                )
            else:
                payload = srv.contact_payload(coach["family"])
                srv.timed(
                    tally,
                    "contact",
                    lambda p=payload: session.post(base + "/api/contacts/", json=p, timeout=30),
                    (201,),
                )
            n += 1
            stop.wait(rng.expovariate(1 / think) if think > 0 else 0)

    return loop


def researcher_loop(base: str, session_key: str, seed_data: dict, tally, think: float, seed: int):
    import requests

    rng = random.Random(seed)
    study, families = seed_data["study"], seed_data["families"]

    def loop(stop):
        session = requests.Session()
        session.cookies.set("sessionid", session_key)
        pages = [
            ("dashboard", lambda: f"/studies/{study}/"),
            ("waves_due", lambda: "/due/"),
            ("family_page", lambda: f"/families/{rng.choice(families)}/"),
        ]
        stop.wait(rng.uniform(0, think))
        n = 0
        while not stop.is_set():
            kind, path = pages[n % len(pages)]
            url = base + path()
            srv.timed(
                tally,
                kind,
                lambda u=url: session.get(u, timeout=30, allow_redirects=False),
                (200,),
            )
            n += 1
            stop.wait(rng.expovariate(1 / think) if think > 0 else 0)

    return loop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 s instead of 60 s")
    parser.add_argument("--duration", type=float, help="seconds (default 60, --quick 10)")
    parser.add_argument("--coaches", type=int, default=50)
    parser.add_argument("--researchers", type=int, default=5)
    parser.add_argument("--think", type=float, default=1.0, help="coach think time, mean s")
    parser.add_argument("--researcher-think", type=float, default=2.0, help="mean s")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds first")
    # gunicorn's own advice: 2 x cores + 1 worker processes (5 on this 2-core machine).
    parser.add_argument(
        "--workers",
        type=int,
        default=2 * (os.cpu_count() or 1) + 1,
        help="gunicorn worker processes (default 2 x cores + 1)",
    )
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    args = parser.parse_args()
    duration = args.duration or (10.0 if args.quick else 60.0)

    with srv.temporary_database() as db_url:
        seed = srv.prepare_database(db_url, coaches=args.coaches, researchers=args.researchers)
        with srv.gunicorn(db_url, workers=args.workers, threads=args.threads) as base:

            def users(tally: srv.Tally, offset: int) -> list:
                return [
                    coach_loop(base, coach, tally, args.think, seed=offset + i)
                    for i, coach in enumerate(seed["coaches"])
                ] + [
                    researcher_loop(base, key, seed, tally, args.researcher_think, offset - i - 1)
                    for i, key in enumerate(seed["researcher_sessions"])
                ]

            if args.warmup > 0:  # not measured: worker threads open connections, caches fill
                srv.run_clients(users(srv.Tally(), 10_000), args.warmup)
            before = srv.count_rows(db_url, "study_contact")
            tally = srv.Tally()
            loops = users(tally, 0)
            srv.log(f"{len(loops)} simulated users for {duration:.0f} s ...")
            wall = srv.run_clients(loops, duration)
        stored = srv.count_rows(db_url, "study_contact") - before

    every = [x for values in tally.latencies.values() for x in values]
    overall = srv.summary(every, wall)
    per_kind = {kind: srv.summary(values, wall) for kind, values in tally.latencies.items()}
    errors = sum(tally.errors.values())
    logged = tally.ok.get("contact", 0)
    srv.log(
        f"{overall['requests']} requests in {wall:.1f} s: {overall['rps']} req/s, "
        f"p50 {overall['p50_ms']} ms, p95 {overall['p95_ms']} ms, p99 {overall['p99_ms']} ms, "
        f"{errors} errors; contacts acknowledged {logged}, in the database {stored}"
    )
    for kind, figures in sorted(per_kind.items()):
        srv.log(f"  {kind:12s} {figures}")
    for sample in tally.error_samples:
        srv.log(f"  error: {sample}")
    figures = {
        "benchmark": "load",
        "duration_s": round(wall, 1),
        "warmup_s": args.warmup,
        "coaches": args.coaches,
        "researchers": args.researchers,
        "think_s": args.think,
        "researcher_think_s": args.researcher_think,
        "server": f"gunicorn gthread {args.workers}x{args.threads}, PostgreSQL",
        **overall,
        "errors": errors,
        "errors_by_kind": tally.errors,
        "per_kind": per_kind,
        "contacts_logged": logged,
        "contacts_in_db": stored,
        "count_check_passed": stored == logged,
        "goal_p95_ms": GOAL_P95_MS,
        "goal_met": errors == 0 and stored == logged and (overall["p95_ms"] or 0) < GOAL_P95_MS,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
