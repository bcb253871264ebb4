"""Compile the gettext catalogues (``.po`` -> ``.mo``) without the ``pybabel`` command.

The ``.mo`` files are build products (``.gitignore`` leaves them out): ``make translations`` compiles
them for a running server, and the test suite calls :func:`compile_catalogs` before it builds the app,
because Flask-Babel silently falls back to English when a ``.mo`` file is missing.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DEFAULT_DIRECTORY = Path(__file__).resolve().parent.parent / "translations"


def compile_catalogs(directory: str | os.PathLike[str] = DEFAULT_DIRECTORY, *, force: bool = False) -> list[Path]:
    """Compile every ``<lang>/LC_MESSAGES/*.po`` under ``directory`` whose ``.mo`` is missing or older.

    Fuzzy entries are left out (gettext then shows the English source), as ``pybabel compile`` does.
    Each file is written to a temporary name and renamed, so parallel test workers never read half a
    file. Returns the ``.mo`` paths written.
    """
    written: list[Path] = []
    for po_path in sorted(Path(directory).glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        if not force and mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with po_path.open("rb") as po_file:
            catalog = read_po(po_file, locale=po_path.parent.parent.name)
        fd, tmp_name = tempfile.mkstemp(prefix=".messages-", suffix=".mo", dir=po_path.parent)
        try:
            with os.fdopen(fd, "wb") as mo_file:
                write_mo(mo_file, catalog, use_fuzzy=False)
            os.replace(tmp_name, mo_path)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        written.append(mo_path)
    return written
