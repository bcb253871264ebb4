"""The WSGI entry point that gunicorn loads."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_built_app_is_frozen_out_of_the_garbage_collector() -> None:
    """Issue 10 item 15: full collections walked the worker's whole heap mid-page (the p99 of the monitoring
    pages); ``wsgi`` freezes what exists once the app is built, so that they walk a request's objects only."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("DATABASE_URL")}  # the testing config's own
    env.update(SENIM_CONFIG="testing", PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-c", "import gc, wsgi; print(gc.get_freeze_count())"], cwd=ROOT,
                          env=env, capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.split()[-1]) > 10_000
