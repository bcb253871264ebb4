"""Load benchmark of the pupil answer-saving path, beside a bare Flask + SQLAlchemy ceiling, in one run.

    .venv/bin/python -m bench.run_submit          (or: make bench)

Starts a private PostgreSQL 15 cluster (fsync on), migrates and seeds one database per school size,
serves each with gunicorn (sync workers, 2 x cores, SENIM_CONFIG=production with generated keys) and
drives 64 concurrent simulated pupils with wrk for a fixed time; then the same load against the bare
ceiling app. Prints a table with the ratios and writes JSON to bench/results/. See bench/README.md.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import platform
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from bench import pupils
from bench.pg import Cluster, free_port

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable


def cores() -> int:
    """CPUs this process may run on (not the host's count inside a container)."""
    return len(os.sched_getaffinity(0))


def ensure_wrk() -> str:
    """Path of wrk; installs Debian's package when missing and running as root."""
    found = shutil.which("wrk")
    if found is None and os.geteuid() == 0 and shutil.which("apt-get"):
        print("wrk is missing: apt-get install wrk", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env, stdout=subprocess.DEVNULL)
        found = shutil.which("wrk")
    if found is None:
        raise SystemExit("wrk not found: apt-get install wrk")
    return found


def app_env(database_url: str) -> dict[str, str]:
    """Production configuration with keys generated for this run."""
    def key() -> str:
        return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()

    return dict(os.environ, SENIM_CONFIG="production", SECRET_KEY=secrets.token_urlsafe(48),
                DATABASE_URL=database_url, SENIM_ENCRYPTION_KEYS=f"bench1:{key()}",
                SENIM_BLIND_INDEX_KEY=f"benchidx1:{key()}", SENIM_TRUSTED_HOSTS="127.0.0.1",
                SENIM_BASE_URL="https://127.0.0.1",
                FLASK_APP="wsgi", PYTHONPATH=str(ROOT))


class Gunicorn:
    """gunicorn serving ``target`` on a free port of 127.0.0.1 until the block ends."""

    def __init__(self, target: str, env: dict[str, str], workers: int, probe: str) -> None:
        self.port = free_port()
        self.target, self.env, self.workers, self.probe = target, env, workers, probe
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> Gunicorn:
        self.process = subprocess.Popen(
            [PYTHON, "-m", "gunicorn", "--workers", str(self.workers), "--worker-class", "sync",
             "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning", "--timeout", "60", self.target],
            cwd=ROOT, env=self.env, start_new_session=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{self.probe}", timeout=5):
                    return self
            except urllib.error.HTTPError:
                return self  # it answers
            except OSError:
                if self.process.poll() is not None:
                    raise SystemExit(f"gunicorn {self.target} exited with {self.process.returncode}") from None
                time.sleep(0.2)
        raise SystemExit(f"gunicorn {self.target} did not start")

    def __exit__(self, *_exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def run_wrk(wrk: str, port: int, requests: list, *, seconds: int, clients: int, workdir: Path,
            expect_status: int, expect_location: str | None) -> dict:
    """Drive ``clients`` sequential clients (one wrk thread each) for ``seconds``; wrk's figures as a dict."""
    plan_file = workdir / "plan.lua"
    plan = {"requests": requests, "expect_status": expect_status}
    if expect_location:
        plan["expect_location"] = expect_location
    plan_file.write_text("return " + pupils.to_lua(plan) + "\n", encoding="ascii")
    done = subprocess.run(
        [wrk, "-t", str(clients), "-c", str(clients), "-d", f"{seconds}s", "--timeout", "10s",
         "-s", str(ROOT / "bench" / "submit.lua"), f"http://127.0.0.1:{port}"],
        env=dict(os.environ, SENIM_BENCH_PLAN=str(plan_file)), capture_output=True, text=True, check=True)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("SENIM_RESULT ")), None)
    if line is None:
        raise SystemExit("wrk printed no result:\n" + done.stdout + done.stderr)
    raw = json.loads(line.removeprefix("SENIM_RESULT "))
    seconds_run = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"], "seconds": round(seconds_run, 2),
        "per_second": round(raw["requests"] / seconds_run, 1),
        "p50_ms": raw["p50_us"] / 1000, "p90_ms": raw["p90_us"] / 1000, "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000, "unexpected_responses": raw["unexpected"], "socket_errors": raw["errors"],
    }


def prepare_database(cluster: Cluster, name: str, pupil_count: int, workdir: Path) -> tuple[dict, dict]:
    """Create, migrate and seed one school's database; return (environment, seeded plan)."""
    cluster.psql(f"CREATE DATABASE {name}")
    env = app_env(cluster.url(name))
    done = subprocess.run([PYTHON, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=False)
    if done.returncode:
        raise SystemExit(f"flask db upgrade failed:\n{done.stdout}{done.stderr}")
    out = workdir / f"{name}.json"
    subprocess.run([PYTHON, "-m", "bench.seed", "--pupils", str(pupil_count), "--out", str(out)],
                   cwd=ROOT, env=env, check=True)
    return env, json.loads(out.read_text())


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_of(pids: list[int]) -> dict[int, float]:
    """CPU seconds (user + system) used so far by each of ``pids`` still alive."""
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = (int(fields[11]) + int(fields[12])) / _TICK
    return used


def children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True, check=False)
    return [int(p) for p in found.stdout.split()]


class CpuMeter:
    """CPU seconds spent by the gunicorn workers and by the PostgreSQL processes during a run.

    On a shared machine the throughput of a run depends on what else runs; the CPU each request costs
    does much less, so the result carries both.
    """

    def __init__(self, server: Gunicorn, postmaster: int) -> None:
        self.groups = {"app": children(server.process.pid), "db": children(postmaster)}
        self.before = {name: cpu_of(pids) for name, pids in self.groups.items()}

    def spent(self) -> dict[str, float]:
        after = {name: cpu_of(pids) for name, pids in self.groups.items()}
        return {name: sum(after[name].get(pid, 0.0) - self.before[name].get(pid, 0.0) for pid in pids)
                for name, pids in self.groups.items()}


class LockWaits(threading.Thread):
    """Samples pg_stat_activity 4 times a second: how many backends run, and how many wait for a lock."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url.replace("postgresql+psycopg://", "postgresql://")
        self.stop = threading.Event()
        self.samples: list[tuple[int, int]] = []

    def run(self) -> None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop.wait(0.25):
                row = conn.execute(
                    "SELECT count(*) FILTER (WHERE state = 'active'), count(*) FILTER (WHERE wait_event_type = 'Lock') "
                    "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()
                self.samples.append((row[0], row[1]))

    def summary(self) -> dict:
        self.stop.set()
        self.join()
        count = len(self.samples) or 1
        return {"active_backends_mean": round(sum(a for a, _ in self.samples) / count, 2),
                "waiting_for_lock_mean": round(sum(w for _, w in self.samples) / count, 2)}


def measure(label: str, wrk: str, server: Gunicorn, requests: list, args: argparse.Namespace, workdir: Path,
            database_url: str, postmaster: int, **expect: object) -> dict:
    run_wrk(wrk, server.port, requests, seconds=args.warmup, clients=args.clients, workdir=workdir, **expect)
    sampler = LockWaits(database_url)
    sampler.start()
    meter = CpuMeter(server, postmaster)
    result = run_wrk(wrk, server.port, requests, seconds=args.seconds, clients=args.clients, workdir=workdir,
                     **expect)
    spent = meter.spent()
    result.update(sampler.summary())
    requests_done = max(result["requests"], 1)
    result["app_cpu_ms"] = round(1000 * spent["app"] / requests_done, 3)
    result["db_cpu_ms"] = round(1000 * spent["db"] / requests_done, 3)
    print(f"  {label:<28} {result['per_second']:>8.1f}/s  p50 {result['p50_ms']:6.1f} ms  "
          f"p99 {result['p99_ms']:6.1f} ms  CPU/request app {result['app_cpu_ms']:.2f} ms + "
          f"db {result['db_cpu_ms']:.2f} ms  lock waits {result['waiting_for_lock_mean']:.2f}  "
          f"unexpected {result['unexpected_responses']}", flush=True)
    return result


def audit_intact(env: dict[str, str]) -> bool:
    """``flask audit verify`` on the database after the load (the hash chains must still verify)."""
    done = subprocess.run([PYTHON, "-m", "flask", "audit", "verify"], cwd=ROOT, env=env, capture_output=True,
                          text=True, check=False)
    return done.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[60, 3000], help="pupils per school (one run each)")
    parser.add_argument("--clients", type=int, default=64, help="concurrent simulated pupils")
    parser.add_argument("--seconds", type=int, default=15, help="measured seconds per run")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured seconds before each run")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved repetitions (median reported)")
    parser.add_argument("--workers", type=int, default=2 * cores(), help="gunicorn sync workers (2 x cores)")
    args = parser.parse_args()
    wrk = ensure_wrk()
    started = time.monotonic()
    runs: dict[str, list[dict]] = {"ceiling": []}
    with tempfile.TemporaryDirectory(prefix="senim-bench.") as tmp, Cluster() as cluster:
        workdir = Path(tmp)
        ceiling_env = prepare_ceiling(cluster, args)
        schools = {}
        for size in args.sizes:
            name = f"senim_{size}"
            schools[name] = prepare_database(cluster, name, size, workdir)
            runs[name] = []
            print(f"  seeded {name}: {schools[name][1]['pupils']} pupils, {schools[name][1]['sessions']} sessions",
                  flush=True)
        ceiling_load = pupils.ceiling_requests("127.0.0.1", args.clients)
        for round_no in range(1, args.rounds + 1):
            print(f"round {round_no}/{args.rounds}", flush=True)
            with Gunicorn("bench.ceiling_app:app", ceiling_env, args.workers, "/submit") as server:
                runs["ceiling"].append(measure("bare ceiling (1 KB JSON)", wrk, server, ceiling_load, args, workdir,
                                               ceiling_env["DATABASE_URL"], cluster.postmaster_pid(),
                                               expect_status=201, expect_location=None))
            for name, (env, plan) in schools.items():
                with Gunicorn("wsgi:app", env, args.workers, "/s") as server:
                    load = pupils.prepare("127.0.0.1", server.port, plan)
                    runs[name].append(measure(f"Senim, {plan['pupils']} pupils", wrk, server, load, args, workdir,
                                              env["DATABASE_URL"], cluster.postmaster_pid(),
                                              expect_status=302, expect_location="/s/q"))
        intact = {name: audit_intact(env) for name, (env, _plan) in schools.items()}
        settings = cluster.settings()
    report(args, runs, schools, intact, settings, time.monotonic() - started)


def prepare_ceiling(cluster: Cluster, args: argparse.Namespace) -> dict[str, str]:
    """Say what the run is, create the bare ceiling's database; return the ceiling's environment."""
    print(f"PostgreSQL {cluster.settings()['server_version']} on 127.0.0.1:{cluster.port} (fsync on), "
          f"{cores()} cores, gunicorn sync x {args.workers}, {args.clients} clients, {args.seconds} s runs",
          flush=True)
    cluster.psql("CREATE DATABASE bench_ceiling")
    env = dict(os.environ, DATABASE_URL=cluster.url("bench_ceiling"), PYTHONPATH=str(ROOT))
    subprocess.run([PYTHON, "-m", "bench.ceiling_app"], cwd=ROOT, env=env, check=True)
    return env


def _median(results: list[dict], key: str) -> float:
    return round(statistics.median(r[key] for r in results), 2)


def report(args: argparse.Namespace, runs: dict[str, list[dict]], schools: dict, intact: dict, settings: dict,
           elapsed: float) -> None:
    ceiling = _median(runs["ceiling"], "per_second")
    ceiling_cpu = _median(runs["ceiling"], "app_cpu_ms") + _median(runs["ceiling"], "db_cpu_ms")
    rows = []
    for name, results in runs.items():
        rate = _median(results, "per_second")
        cpu = _median(results, "app_cpu_ms") + _median(results, "db_cpu_ms")
        rows.append({"run": name, "pupils": schools[name][1]["pupils"] if name in schools else None,
                     "per_second": rate, "p50_ms": _median(results, "p50_ms"), "p99_ms": _median(results, "p99_ms"),
                     "ratio": round(rate / ceiling, 3) if ceiling else None,
                     "waiting_for_lock_mean": _median(results, "waiting_for_lock_mean"),
                     "app_cpu_ms": _median(results, "app_cpu_ms"), "db_cpu_ms": _median(results, "db_cpu_ms"),
                     "cpu_ratio": round(ceiling_cpu / cpu, 3) if cpu else None,
                     "unexpected_responses": sum(r["unexpected_responses"] for r in results), "all": results})
    print()
    print(f"{'run':<12} {'pupils':>6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'ratio':>6} "
          f"{'app CPU ms':>10} {'db CPU ms':>9} {'CPU ratio':>9} {'lock waits':>10}")
    for row in rows:
        print(f"{row['run']:<12} {row['pupils'] or '-':>6} {row['per_second']:>8.1f} {row['p50_ms']:>8.1f} "
              f"{row['p99_ms']:>8.1f} {row['ratio']:>6.2f} {row['app_cpu_ms']:>10.2f} {row['db_cpu_ms']:>9.2f} "
              f"{row['cpu_ratio']:>9.2f} {row['waiting_for_lock_mean']:>10.2f}")
    print("ratio: requests/s over the ceiling's; CPU ratio: the ceiling's CPU per request (workers + PostgreSQL) "
          "over the run's, i.e. the ratio a machine with nothing else running would approach")
    targets_met = all(r["ratio"] >= 0.6 and r["p99_ms"] < 150 for r in rows if r["run"] != "ceiling")
    print(f"target (>= 0.60 of the ceiling, p99 < 150 ms): {'met' if targets_met else 'NOT met'}; "
          f"audit chains verify: {all(intact.values())}; {elapsed:.0f} s")
    save_result("submit", {**run_facts(args, settings, elapsed), "runs": rows, "targets_met": targets_met,
                           "audit_intact": intact})


def run_facts(args: argparse.Namespace, settings: dict, elapsed: float) -> dict:
    """What every result file says about the run: when, where, with what settings and load."""
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"), "host": platform.node(), "cores": cores(),
        "python": platform.python_version(), "postgresql": settings, "workers": args.workers,
        "clients": args.clients, "seconds": args.seconds, "warmup": args.warmup, "rounds": args.rounds,
        "elapsed_s": round(elapsed, 1),
    }


def save_result(name: str, result: dict) -> None:
    """Write ``result`` to bench/results/<name>-<UTC time>.json; fail the run if a response was unexpected."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"written {path.relative_to(ROOT)}")
    if any(r["unexpected_responses"] for r in result["runs"]):
        raise SystemExit("some responses were not the expected ones: see the JSON")


if __name__ == "__main__":
    main()
