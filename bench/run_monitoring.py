"""Load benchmark of the psychologist's caseload page and a heavily documented pupil's chronology page, beside the
bare ceiling's GET, in one run (issue 10 item 15).

    .venv/bin/python -m bench.run_monitoring                  # 3,000 pupils, 300 open cases, ten years (~15 min)
    .venv/bin/python -m bench.run_monitoring --pupils 300     # a quick try (~3 min)

Reuses run_submit.py's machinery: a private PostgreSQL 15 cluster (fsync on), gunicorn with sync workers and
SENIM_CONFIG=production with generated keys, wrk with bench/submit.lua, CPU per request from /proc. Seeds the
school through the real services (bench/seed_monitoring.py), signs each psychologist in through the real forms
(password and a TOTP code), then drives closed-loop clients, each sending the next GET when its answer arrives.
Prints p50/p99 per page and the ceiling's, and writes JSON to bench/results/. See bench/README.md.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import pyotp

from bench.pg import Cluster
from bench.pupils import Browser
from bench.run_submit import (
    PYTHON,
    ROOT,
    Gunicorn,
    app_env,
    cores,
    ensure_wrk,
    measure,
    prepare_ceiling,
    run_facts,
    save_result,
)

#: The issue's target for both pages.
TARGET_P99_MS = 150


def seed(cluster: Cluster, pupils: int, heavy: int, workdir: Path) -> tuple[dict[str, str], dict]:
    """Create, migrate and seed the school's database; return (environment, seeded plan)."""
    cluster.psql("CREATE DATABASE senim_monitoring")
    env = app_env(cluster.url("senim_monitoring"))
    done = subprocess.run([PYTHON, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=False)
    if done.returncode:
        raise SystemExit(f"flask db upgrade failed:\n{done.stdout}{done.stderr}")
    out = workdir / "monitoring.json"
    subprocess.run([PYTHON, "-m", "bench.seed_monitoring", "--pupils", str(pupils), "--heavy", str(heavy),
                    "--out", str(out)], cwd=ROOT, env=env, check=True)
    cluster.psql("VACUUM ANALYZE", "senim_monitoring")
    return env, json.loads(out.read_text())


def sign_in(port: int, username: str, password: str, secret: str) -> Browser:
    """A psychologist's browser signed in through the real forms: password, then the current TOTP code."""
    browser = Browser("127.0.0.1", port)
    token = browser.csrf("/login")
    status, location, _ = browser.call("POST", "/login", {"csrf_token": token, "username": username,
                                                          "password": password})
    if status != 302:
        raise RuntimeError(f"sign-in of {username}: {status} {location}")
    token = browser.csrf("/mfa")  # the home page sends a signed-in psychologist here
    status, location, _ = browser.call("POST", "/mfa", {"csrf_token": token, "code": pyotp.TOTP(secret).now()})
    if status != 302 or location == "/mfa":
        raise RuntimeError(f"second factor of {username}: {status} {location}")
    return browser


def page_requests(browsers: list[Browser], path: str, clients: int) -> list[list[list]]:
    """One GET of ``path`` per client (wrk.format arguments), the clients spread over the signed-in browsers."""
    out = []
    for n in range(clients):
        browser = browsers[n % len(browsers)]
        headers = {"Host": browser.host, "Cookie": browser.cookie_header(), "Accept-Language": "ru"}
        out.append([["GET", path, headers, None]])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pupils", type=int, default=3000, help="pupils of the school (cases and history scale)")
    parser.add_argument("--heavy", type=int, default=3, help="scale of the heavily documented pupil's history")
    parser.add_argument("--clients", type=int, nargs="+", default=[cores() * 2],
                        help="concurrent closed-loop clients, one run each on the same seeded school (e.g. 2 4; "
                             "default: one per worker)")
    parser.add_argument("--seconds", type=int, default=15, help="measured seconds per run")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured seconds before each run")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved repetitions (median reported)")
    parser.add_argument("--workers", type=int, default=2 * cores(), help="gunicorn sync workers (2 x cores)")
    args = parser.parse_args()
    wrk = ensure_wrk()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="senim-bench.") as tmp, Cluster() as cluster:
        workdir = Path(tmp)
        ceiling_env = prepare_ceiling(cluster, args)
        env, plan = seed(cluster, args.pupils, args.heavy, workdir)
        print(f"  seeded in {plan['seconds']} s ({plan['service_calls']} service calls): "
              + ", ".join(f"{k} {v}" for k, v in plan["counts"].items()), flush=True)
        browsers: list[Browser] = []  # one sign-in per psychologist for the whole run (a code is used once)
        for clients in args.clients:  # one seeded school for every number of clients
            run_args = argparse.Namespace(**{**vars(args), "clients": clients})
            runs = _rounds(run_args, wrk, cluster, workdir, ceiling_env, env, plan, browsers)
            report(run_args, runs, plan, cluster.settings(), time.monotonic() - started)


def _rounds(args: argparse.Namespace, wrk: str, cluster: Cluster, workdir: Path, ceiling_env: dict[str, str],
            env: dict[str, str], plan: dict, browsers: list[Browser]) -> dict[str, list[dict]]:
    """``args.rounds`` interleaved rounds of the ceiling and both pages with ``args.clients`` clients."""
    runs: dict[str, list[dict]] = {"ceiling": [], "caseload": [], "chronology": []}
    ceiling_load = [[["GET", "/recent", {"Host": "127.0.0.1"}, None]] for _ in range(args.clients)]
    chronology = f"/monitoring/pupils/{plan['heavy_pupil']}/chronology"
    for round_no in range(1, args.rounds + 1):
        print(f"{args.clients} clients, round {round_no}/{args.rounds}", flush=True)
        with Gunicorn("bench.ceiling_app:app", ceiling_env, args.workers, "/recent") as server:
            runs["ceiling"].append(measure("bare ceiling (GET 20 rows)", wrk, server, ceiling_load, args,
                                           workdir, ceiling_env["DATABASE_URL"], cluster.postmaster_pid(),
                                           expect_status=200, expect_location=None))
        with Gunicorn("wsgi:app", env, args.workers, "/login") as server:
            if not browsers:
                browsers.extend(sign_in(server.port, p["username"], plan["password"], p["totp_secret"])
                                for p in plan["psychologists"])
            for browser in browsers:
                browser.port = server.port
            runs["caseload"].append(measure(
                "caseload (each psychologist's)", wrk, server, page_requests(browsers, "/monitoring/cases",
                                                                             args.clients),
                args, workdir, env["DATABASE_URL"], cluster.postmaster_pid(), expect_status=200,
                expect_location=None))
            runs["chronology"].append(measure(
                "chronology (heavy pupil)", wrk, server, page_requests(browsers[:1], chronology, args.clients),
                args, workdir, env["DATABASE_URL"], cluster.postmaster_pid(), expect_status=200,
                expect_location=None))
    return runs


def _median(results: list[dict], key: str) -> float:
    return round(statistics.median(r[key] for r in results), 2)


def report(args: argparse.Namespace, runs: dict[str, list[dict]], plan: dict, settings: dict,
           elapsed: float) -> None:
    rows = []
    for name, results in runs.items():
        rows.append({"run": name, "per_second": _median(results, "per_second"), "p50_ms": _median(results, "p50_ms"),
                     "p99_ms": _median(results, "p99_ms"), "app_cpu_ms": _median(results, "app_cpu_ms"),
                     "db_cpu_ms": _median(results, "db_cpu_ms"),
                     "unexpected_responses": sum(r["unexpected_responses"] for r in results), "all": results})
    print()
    print(f"{'run':<12} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'app CPU ms':>10} {'db CPU ms':>9}")
    for row in rows:
        print(f"{row['run']:<12} {row['per_second']:>8.1f} {row['p50_ms']:>8.1f} {row['p99_ms']:>8.1f} "
              f"{row['app_cpu_ms']:>10.2f} {row['db_cpu_ms']:>9.2f}")
    met = all(r["p99_ms"] < TARGET_P99_MS for r in rows if r["run"] != "ceiling")
    print(f"target (p99 < {TARGET_P99_MS} ms on both pages): {'met' if met else 'NOT met'}; {elapsed:.0f} s")
    school = {k: plan[k] for k in ("pupils", "open_cases", "closed_cases", "service_calls", "counts")}
    save_result("monitoring", {**run_facts(args, settings, elapsed), "school": school, "seed_seconds": plan["seconds"],
                               "runs": rows, "target_met": met})


if __name__ == "__main__":
    main()
