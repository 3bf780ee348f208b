"""Contact logging under load (issue 5): p50/p95 latency and throughput of POST /api/contacts/
with 20 concurrent clients on PostgreSQL, side by side with a bare DRF endpoint on the same
gunicorn server.

The script creates a temporary PostgreSQL database (server from DATABASE_URL, default
postgres://postgres@127.0.0.1:5432), migrates and seeds it (one wijkcoach with a family and a
token per client), starts gunicorn on a free port, runs the bare endpoint and then contact
logging for the same duration each with keep-alive client threads (closed loop: each client
sends its next request when the previous one is answered, so latency includes queueing), then
each endpoint with one client alone (service time without queueing), stops the server and drops
the database. Clients and server share this machine, so the figures include the clients' cost.

Usage:  python benchmarks/api_load.py [--quick] [--duration S] [--clients N]
Goal: contact logging p95 under 50 ms and throughput at least half of the bare endpoint's.
The last line of output is one line of JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _server as srv  # noqa: E402

GOAL_P95_MS = 50.0
GOAL_RATIO = 0.5


def _phase(base: str, kind: str, clients: list[dict], duration: float) -> dict:
    import requests

    tally = srv.Tally()

    def make_loop(client: dict):
        def loop(stop):
            session = requests.Session()  # keep-alive
            session.headers["Authorization"] = f"Token {client['token']}"
            url = base + ("/api/contacts/" if kind == "contacts" else "/bench/bare/")
            while not stop.is_set():
                payload = srv.contact_payload(client["family"])
                srv.timed(
                    tally, kind, lambda p=payload: session.post(url, json=p, timeout=30), (201,)
                )

        return loop

    wall = srv.run_clients([make_loop(c) for c in clients], duration)
    result = srv.summary(tally.latencies.get(kind, []), wall)
    result["errors"] = tally.errors.get(kind, 0)
    result["ok"] = tally.ok.get(kind, 0)
    if tally.error_samples:
        result["error_samples"] = tally.error_samples
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 s per endpoint")
    parser.add_argument("--duration", type=float, help="seconds per endpoint (default 20)")
    parser.add_argument("--clients", type=int, default=20)
    # gunicorn's own advice: 2 x cores + 1 worker processes (5 on this 2-core machine).
    parser.add_argument(
        "--workers",
        type=int,
        default=2 * (os.cpu_count() or 1) + 1,
        help="gunicorn worker processes (default 2 x cores + 1)",
    )
    parser.add_argument("--threads", type=int, default=2, help="threads per gunicorn worker")
    parser.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds first")
    args = parser.parse_args()
    duration = args.duration or (5.0 if args.quick else 20.0)

    with srv.temporary_database() as db_url:
        seed = srv.prepare_database(db_url, coaches=args.clients, researchers=0)
        clients = seed["coaches"]
        with srv.gunicorn(db_url, workers=args.workers, threads=args.threads) as base:
            _phase(base, "bare", clients, args.warmup)  # open connections, warm the workers
            _phase(base, "contacts", clients, args.warmup)
            warm = srv.count_rows(db_url, "study_contact")
            bare = _phase(base, "bare", clients, duration)
            srv.log(f"bare:     {bare}")
            contacts = _phase(base, "contacts", clients, duration)
            srv.log(f"contacts: {contacts}")
            stored = srv.count_rows(db_url, "study_contact") - warm
            # One client alone: the service time without queueing, for context.
            single = {
                kind: _phase(base, kind, clients[:1], max(2.0, duration / 2))
                for kind in ("bare", "contacts")
            }
            srv.log(f"one client: {single}")

    ratio = round(contacts["rps"] / bare["rps"], 3) if bare["rps"] else None
    figures = {
        "benchmark": "api_load",
        "clients": args.clients,
        "duration_s": duration,
        "server": f"gunicorn gthread {args.workers}x{args.threads}, PostgreSQL",
        "contacts": contacts,
        "bare": bare,
        "throughput_ratio": ratio,
        "one_client": {
            kind: {k: v[k] for k in ("p50_ms", "p95_ms", "rps")} for kind, v in single.items()
        },
        "contacts_stored": stored,
        "contacts_stored_match": stored == contacts["ok"],
        "goal_p95_ms": GOAL_P95_MS,
        "goal_ratio": GOAL_RATIO,
        "p95_goal_met": contacts["p95_ms"] is not None and contacts["p95_ms"] < GOAL_P95_MS,
        "ratio_goal_met": ratio is not None and ratio >= GOAL_RATIO,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
