"""Time a roster import: a generated school of N pupils (default 2,000) with a parent each, as XLSX or CSV.

    .venv/bin/python -m bench.roster_import                       # 2,000 pupils, XLSX, a scratch SQLite database
    .venv/bin/python -m bench.roster_import --pupils 5000 --format csv
    .venv/bin/python -m bench.roster_import --database-url postgresql+psycopg://postgres@127.0.0.1:5432/scratch

The database must be empty (it is migrated here) and is left with the imported school. Prints the seconds spent
reading the file, checking it against the database (what the preview does), committing it, and checking and
committing the same file a second time (which changes nothing). Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import TypeVar

from app import create_app
from app.core.iin import make_iin
from app.core.models import District, Region, School, SchoolClass
from app.extensions import db
from app.roster import services, workbook
from app.roster.columns import Sheet

T = TypeVar("T")
SURNAMES = ["Ахметов", "Сейітов", "Омаров", "Ким", "Иванов", "Жұмабаев", "Нұрланов", "Сәрсенов", "Петров", "Әлиев"]
NAMES = ["Ерлан", "Дана", "Айгерім", "Илья", "Әсел", "Нұрсұлтан", "Мария", "Данияр", "Аружан", "Тимур"]


def roster(pupils: int, year: int, seed: int = 7) -> dict[Sheet, list[list[str]]]:
    """Classes of 25 or more (grades 1 to 11, letters А to З), one pupil per row and one parent each."""
    rng = random.Random(seed)
    letters = "АӘБВГДЕЖЗ"
    size = max(25, -(-pupils // (11 * len(letters))))
    rows: dict[Sheet, list[list[str]]] = {Sheet.CLASSES: [], Sheet.PUPILS: [], Sheet.PARENTS: []}
    classes = [(grade, letter) for letter in letters for grade in range(1, 12)]
    used: set[str] = set()
    for grade, letter in classes[: -(-pupils // size)]:
        rows[Sheet.CLASSES].append([str(grade), letter, "kk"])
    for n in range(pupils):
        grade, letter = classes[n // size]
        born = date(year - 6 - grade, 1, 1) + timedelta(days=rng.randrange(365))
        sex = rng.choice(["male", "female"])
        serial = n
        value = make_iin(born, sex, serial % 10_000)
        while value in used:
            serial += 1
            value = make_iin(born, sex, serial % 10_000)
        used.add(value)
        surname = rng.choice(SURNAMES) + ("а" if sex == "female" and not rng.random() < 0.2 else "")
        rows[Sheet.PUPILS].append([f"{grade}{letter}", surname, rng.choice(NAMES), "", value, "", "", "", f"N{n}"])
        rows[Sheet.PARENTS].append([value, "", surname, rng.choice(NAMES), "", rng.choice(["mother", "father"]),
                                    f"+7701{n:07d}", f"parent{n}@example.kz", "yes"])
    return rows


def _timed(label: str, action: Callable[[], T]) -> T:
    start = time.perf_counter()
    value = action()
    print(f"{label:<40} {time.perf_counter() - start:6.2f} s")
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pupils", type=int, default=2000)
    parser.add_argument("--format", choices=["xlsx", "csv"], default="xlsx")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    scratch = tempfile.mkdtemp(prefix="senim-roster-bench-")
    url = args.database_url or f"sqlite:///{Path(scratch) / 'bench.db'}"
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context(), app.test_request_context():
        from flask_migrate import upgrade

        upgrade(directory=str(Path(__file__).resolve().parent.parent / "migrations"))
        region = Region(name_kk="Облыс", name_ru="Область")
        district = District(region=region, name_kk="Аудан", name_ru="Район")
        school = School(district=district, name_kk="Мектеп", name_ru="Школа")
        db.session.add_all([region, district, school])
        db.session.commit()
        year = services.current_school_year()
        rows = roster(args.pupils, year)
        if args.format == "xlsx":
            files = [("roster.xlsx", workbook.xlsx_workbook("ru", rows))]
        else:
            files = [(f"{sheet.value}.csv", workbook.csv_sheet(sheet, "ru", rows[sheet])) for sheet in Sheet]
        size = sum(len(content) for _name, content in files)
        print(f"{args.pupils} pupils, {args.pupils} parents, {args.format}, {size / 1024:.0f} KB, {db.engine.name}")
        for attempt in ("first import", "same file again"):
            result = _timed(f"{attempt}: read", lambda: services.read(files))
            plan = _timed(f"{attempt}: check (the preview)",
                          lambda r=result: services.build_plan(school=school, school_year=year, result=r))
            assert plan.can_commit, [p.code for p in plan.errors[:5]]
            counts = _timed(f"{attempt}: commit",
                            lambda p=plan: services.apply(p, actor=None, school=school, mark_left=False, via="bench"))
            print(f"{'':<40} new pupils {counts['pupils_new']}, unchanged {counts['pupils_unchanged']}, "
                  f"new parents {counts['parents_new']}")
            db.session.expire_all()
        assert db.session.query(SchoolClass).count() == len(rows[Sheet.CLASSES])


if __name__ == "__main__":
    main()
