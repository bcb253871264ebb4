"""Numbers from URLs: database ids are 32-bit, so a longer number is no id (security.md §7, issue 9 case 8).

``<int:...>`` in every route uses :class:`IdConverter`: a number past the largest id reaches the view as 0, which
matches no row, so the view answers the same audited 404 as for any other unknown id (never a 500 from the
database). Query-string numbers go through :func:`db_int`.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

#: The largest primary key (PostgreSQL ``integer``); also bounds page numbers and other numeric parameters.
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """Werkzeug's integer converter, with out-of-range numbers mapped to 0 (an id that never exists)."""

    def to_python(self, value: str) -> Any:
        number = super().to_python(value)
        return number if 0 <= number <= MAX_ID else 0


def db_int(value: str) -> int:
    """``int(value)`` within 0..MAX_ID, else ValueError (``request.args.get(..., type=db_int)`` then gives the
    default)."""
    number = int(value)
    if not 0 <= number <= MAX_ID:
        raise ValueError("out of range")
    return number


def register(app: Flask) -> None:
    """Use :class:`IdConverter` for ``<int:...>``."""
    app.url_map.converters["int"] = IdConverter
