"""Where the CPU of one answer save goes: the real app called in-process, without HTTP, under cProfile.

    .venv/bin/python -m bench.profile_answer [--requests N] [--top K] [--no-profile]

Starts a private PostgreSQL 15 cluster, seeds one school like run_submit.py, signs 64 pupils in through
gunicorn (the real forms), then replays their answer POSTs by calling the WSGI application directly in
this process: it prints the CPU time per request (``time.process_time``, i.e. this process only, without
PostgreSQL) and, unless ``--no-profile``, the functions with the most own and cumulative time.
A tool for finding work to remove, not a benchmark: the figures to quote come from run_submit.py.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench import pupils
from bench.pg import Cluster
from bench.run_submit import Gunicorn, children, cpu_of, prepare_database


def _environ(method: str, path: str, headers: dict[str, str], body: str) -> tuple[dict, bytes]:
    """A WSGI environ for one recorded request (the body is attached per call)."""
    parts = urlsplit(path)
    environ = {
        "REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": parts.path, "QUERY_STRING": parts.query,
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0), "wsgi.url_scheme": "http", "wsgi.errors": io.StringIO(),
        "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
    }
    for name, value in headers.items():
        key = name.upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key] = value
    data = body.encode()
    environ["CONTENT_LENGTH"] = str(len(data))
    return environ, data


def replay(app: object, calls: list[tuple[dict, bytes]]) -> None:
    for base, data in calls:
        environ = dict(base)
        environ["wsgi.input"] = io.BytesIO(data)
        status: list[str] = []
        body = app(environ, lambda s, _h, _e=None, out=status: out.append(s))  # type: ignore[operator]
        for _chunk in body:
            pass
        if hasattr(body, "close"):
            body.close()
        if not status[0].startswith("302"):
            raise SystemExit(f"unexpected {status[0]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="senim-profile.") as tmp, Cluster() as cluster:
        env, plan = prepare_database(cluster, "senim_profile", 60, Path(tmp))
        with Gunicorn("wsgi:app", env, 1, "/s") as server:
            load = pupils.prepare("127.0.0.1", server.port, plan)
        os.environ.update(env)
        from app import create_app

        app = create_app()
        interleaved = [r for step in zip(*load, strict=False) for r in step]
        calls = [_environ(*r) for r in interleaved]
        calls = (calls * (args.requests // len(calls) + 1))[:args.requests]
        replay(app, calls[:200])  # warm caches and the pool
        backends = children(cluster.postmaster_pid())
        db_before = cpu_of(backends)
        started, wall = time.process_time(), time.perf_counter()
        replay(app, calls)
        cpu, wall = time.process_time() - started, time.perf_counter() - wall
        db_after = cpu_of(backends)
        db_cpu = sum(db_after[pid] - db_before.get(pid, 0.0) for pid in db_after)
        print(f"{len(calls)} answer saves: {1000 * cpu / len(calls):.3f} ms CPU in this process, "
              f"{1000 * db_cpu / len(calls):.3f} ms in PostgreSQL, {1000 * wall / len(calls):.3f} ms wall "
              "per request")
        print(cluster.psql("SELECT relname, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables WHERE n_tup_upd > 0 "
                           "ORDER BY relname", database="senim_profile").strip())
        if not args.no_profile:
            profiler = cProfile.Profile()
            profiler.runcall(replay, app, calls)
            for key in ("tottime", "cumulative"):
                out = io.StringIO()
                pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(key).print_stats(args.top)
                print(out.getvalue())


if __name__ == "__main__":
    main()
