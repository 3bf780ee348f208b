"""Contact logging under load (issue 5): p50/p95 latency and throughput of POST /api/contacts/
with 20 concurrent clients on PostgreSQL, side by side with a bare DRF endpoint on the same
gunicorn server.

The script creates a temporary PostgreSQL database (server from DATABASE_URL, default
postgres://postgres@127.0.0.1:5432), migrates and seeds it (one wijkcoach with a family and a
token per client), starts gunicorn on a free port, runs the bare endpoint and then contact
logging for the same duration each with keep-alive client threads (closed loop: each client
sends its next request when the previous one is answered, so latency includes queueing), then
each endpoint with one client alone (service time without queueing), stops the server and drops
the database. Clients and server share this machine, so the figures include the clients' cost:
with wrk installed (`apt-get install wrk`, a C load generator) the clients cost little CPU; the
fallback, Python threads with keep-alive sessions, takes a good share of the two cores.

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

import _server as srv

GOAL_P95_MS = 50.0
GOAL_RATIO = 0.5


def _phase(base: str, kind: str, clients: list[dict], duration: float, driver: str = "python"):
    if driver == "wrk":
        return _phase_wrk(base, kind, clients, duration)
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


def _phase_wrk(base: str, kind: str, clients: list[dict], duration: float) -> dict:
    """The same closed loop driven by wrk (C, event loop): the clients cost far less CPU than
    Python threads, so more of the two cores is left to the server."""
    import subprocess
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as fh:
        fh.writelines(f"{c['token']},{c['family']}\n" for c in clients)
    env = {**os.environ, "WRK_CREDS": fh.name, "WRK_MODE": kind}
    script = str(Path(__file__).with_name("_wrk_contacts.lua"))
    out = subprocess.run(
        [
            "wrk",
            "-t",
            str(min(2, len(clients))),
            "-c",
            str(len(clients)),
            "-d",
            f"{max(1, round(duration))}s",
            "-s",
            script,
            base,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=duration + 60,
    )
    os.unlink(fh.name)
    line = next((x for x in out.stdout.splitlines() if x.startswith("WRK ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no figures: {out.stdout[-500:]} {out.stderr[-500:]}")
    raw = json.loads(line[4:])
    seconds = raw["duration_us"] / 1e6
    errors = raw["non_2xx"] + raw["socket_errors"]
    return {
        "requests": raw["requests"],
        "rps": round(raw["requests"] / seconds, 1),
        "p50_ms": round(raw["p50_us"] / 1000, 2),
        "p95_ms": round(raw["p95_us"] / 1000, 2),
        "p99_ms": round(raw["p99_us"] / 1000, 2),
        "errors": errors,
        "ok": raw["requests"] - errors,
    }


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
    parser.add_argument(
        "--driver",
        choices=["auto", "wrk", "python"],
        default="auto",
        help="load generator: wrk when installed (apt-get install wrk), else Python threads",
    )
    args = parser.parse_args()
    import shutil

    driver = args.driver
    if driver == "auto":
        driver = "wrk" if shutil.which("wrk") else "python"
    duration = args.duration or (5.0 if args.quick else 20.0)

    with srv.temporary_database() as db_url:
        seed = srv.prepare_database(db_url, coaches=args.clients, researchers=0)
        clients = seed["coaches"]
        with srv.gunicorn(db_url, workers=args.workers, threads=args.threads) as base:
            _phase(base, "bare", clients, args.warmup)  # open connections, warm the workers
            _phase(base, "contacts", clients, args.warmup)
            warm = srv.count_rows(db_url, "study_contact")
            bare = _phase(base, "bare", clients, duration, driver)
            srv.log(f"bare:     {bare}")
            contacts = _phase(base, "contacts", clients, duration, driver)
            srv.log(f"contacts: {contacts}")
            stored = srv.count_rows(db_url, "study_contact") - warm
            # One client alone: the service time without queueing, for context.
            single = {
                kind: _phase(base, kind, clients[:1], max(2.0, duration / 2), driver)
                for kind in ("bare", "contacts")
            }
            srv.log(f"one client: {single}")

    ratio = round(contacts["rps"] / bare["rps"], 3) if bare["rps"] else None
    figures = {
        "benchmark": "api_load",
        "clients": args.clients,
        "duration_s": duration,
        "server": f"gunicorn gthread {args.workers}x{args.threads}, PostgreSQL",
        "load_generator": driver,
        "contacts": contacts,
        "bare": bare,
        "throughput_ratio": ratio,
        "one_client": {
            kind: {k: v[k] for k in ("p50_ms", "p95_ms", "rps")} for kind, v in single.items()
        },
        "contacts_stored": stored,
        # wrk stops with requests in flight: those are stored but not counted (at most one per
        # client); the Python driver waits for every answer.
        "contacts_stored_match": (
            contacts["ok"] <= stored <= contacts["ok"] + args.clients
            if driver == "wrk"
            else stored == contacts["ok"]
        ),
        "goal_p95_ms": GOAL_P95_MS,
        "goal_ratio": GOAL_RATIO,
        "p95_goal_met": contacts["p95_ms"] is not None and contacts["p95_ms"] < GOAL_P95_MS,
        "ratio_goal_met": ratio is not None and ratio >= GOAL_RATIO,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
