"""Check every row of a roster file on its own and against the other rows of the file (no database).

Each valid row becomes a record with normalised values (IIN digits, ISO dates, "+7…" phones, lower-case
e-mails, "male"/"female"); each invalid one gives problems with its row and column and no record. Duplicates
within the file are found with pandas over the normalised keys.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

import pandas as pd
from email_validator import EmailNotValidError, validate_email

from app.core.exports import FORMULA_PREFIXES
from app.core.iin import InvalidIIN, parse_iin
from app.core.models import age_on
from app.core.phone import normalise_phone
from app.roster.columns import (
    LANGUAGE_VALUES,
    RELATION_VALUES,
    SEX_VALUES,
    YES_NO_VALUES,
    Sheet,
    normalise_value,
)
from app.roster.problems import Problem, problem
from app.roster.reading import SheetRows

MAX_NAME = 100
MAX_ID = 64
#: Ages a pupil can have on the day of the import (pre-school classes to the last year, with margins).
PUPIL_AGES = range(3, 22)
_CLASS_RE = re.compile(r"^(\d{1,2})\s*[-\s]?\s*([^\W\d_]{1,4})$")
_LETTER_RE = re.compile(r"^[^\W\d_]{1,4}$")
#: Latin capitals that look like Cyrillic ones: "7A" typed in Latin finds the class "7А".
_LOOK_ALIKES = str.maketrans("ABCEHIKMOPTXY", "АВСЕНІКМОРТХУ")

Progress = Callable[[int], None]


def letter_key(letter: str) -> str:
    """A class letter compared without case and without Latin/Cyrillic look-alike differences."""
    return letter.strip().upper().translate(_LOOK_ALIKES)


def class_label(grade: int, letter: str) -> str:
    return f"{grade}{letter}"


@dataclass(frozen=True)
class ClassRecord:
    row: int
    grade: int
    letter: str
    language: str | None


@dataclass(frozen=True)
class PupilRecord:
    row: int
    grade: int
    letter: str
    last_name: str
    first_name: str
    patronymic: str | None
    iin: str | None
    birth_date: date
    sex: str
    kundelik_id: str | None
    file_number: str | None

    @property
    def class_label(self) -> str:
        return class_label(self.grade, self.letter)

    @property
    def short_name(self) -> str:
        return f"{self.last_name} {self.first_name}"


@dataclass(frozen=True)
class ParentRecord:
    row: int
    pupil_iin: str | None
    pupil_file_number: str | None
    last_name: str
    first_name: str
    patronymic: str | None
    relation: str
    phone: str | None
    email: str | None
    legal_representative: bool

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.patronymic) if p)

    @property
    def contact(self) -> tuple[str, str]:
        """What identifies the parent's account: the e-mail if given, else the phone."""
        return ("email", self.email) if self.email else ("phone", self.phone or "")


@dataclass
class Checked:
    """The valid rows of each sheet and every problem found."""

    classes: list[ClassRecord] = field(default_factory=list)
    pupils: list[PupilRecord] = field(default_factory=list)
    parents: list[ParentRecord] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    sheets: set[Sheet] = field(default_factory=set)


class _Row:
    """Collects the problems of one row while its values are read."""

    def __init__(self, sheet: Sheet, number: int, cells: dict[str, str], problems: list[Problem]) -> None:
        self.sheet, self.number, self.cells, self.problems = sheet, number, cells, problems
        self.failed = False

    def fail(self, code: str, column: str | None = None, **params: object) -> None:
        self.failed = True
        self.problems.append(problem(code, self.sheet, self.number, column, **params))

    def warn(self, code: str, column: str | None = None, **params: object) -> None:
        self.problems.append(problem(code, self.sheet, self.number, column, **params))

    def raw(self, key: str) -> str:
        return self.cells.get(key, "")

    def text(self, key: str, *, required: bool = False, limit: int = MAX_NAME) -> str | None:
        """A text cell: NFC, single spaces, our export's leading apostrophe undone; checked for length and
        control characters; a formula-like start is kept as text, with a warning."""
        value = " ".join(unicodedata.normalize("NFC", self.raw(key)).split())
        if value.startswith("'") and value[1:2] and value[1] in FORMULA_PREFIXES:
            value = value[1:]
        if not value:
            if required:
                self.fail("required", key)
            return None
        if any(unicodedata.category(ch) == "Cc" for ch in value):
            self.fail("control_characters", key)
            return None
        if len(value) > limit:
            self.fail("too_long", key, limit=limit)
            return None
        if value.startswith(FORMULA_PREFIXES):
            self.warn("formula_text", key, char=value[0])
        return value

    def choice(self, key: str, vocabulary: dict[str, str], code: str, *, required: bool = False) -> str | None:
        value = normalise_value(self.raw(key))
        if not value:
            if required:
                self.fail("required", key)
            return None
        if value not in vocabulary:
            self.fail(code, key)
            return None
        return vocabulary[value]

    def iin(self, key: str) -> tuple[str | None, date | None, str | None]:
        """(IIN, the birth date and sex it holds); problems for an invalid one."""
        value = re.sub(r"[\s\-]", "", self.raw(key))
        if not value:
            return None, None, None
        try:
            info = parse_iin(value)
        except InvalidIIN as exc:
            self.fail(f"iin_{exc.code}", key)
            return None, None, None
        return value, info.birth_date, info.sex

    def date(self, key: str) -> date | None:
        value = self.raw(key).strip()
        if not value:
            return None
        for pattern in ("%Y-%m-%d", "%d.%m.%Y"):
            try:
                return datetime.strptime(value, pattern).date()
            except ValueError:
                continue
        self.fail("bad_date", key)
        return None


# --- sheets ------------------------------------------------------------------------------------------


def _classes(data: SheetRows, out: Checked, progress: Progress) -> None:
    for number, cells in data.rows:
        row = _Row(Sheet.CLASSES, number, cells, out.problems)
        grade = _grade(row)
        letter = (row.text("letter", required=True, limit=4) or "").upper()
        if letter and not _LETTER_RE.match(letter):
            row.fail("bad_letter", "letter")
        language = row.choice("language", LANGUAGE_VALUES, "bad_language")
        if not row.failed and grade is not None:
            out.classes.append(ClassRecord(number, grade, letter, language))
        progress(1)
    _duplicates(out, Sheet.CLASSES, [(c.row, {"class": f"{c.grade}|{letter_key(c.letter)}"}) for c in out.classes],
                ["class"])


def _grade(row: _Row) -> int | None:
    value = row.raw("grade").strip().removesuffix(".0")
    if not value:
        row.fail("required", "grade")
        return None
    if not value.isdigit() or int(value) > 12:
        row.fail("bad_grade", "grade")
        return None
    return int(value)


def _pupils(data: SheetRows, out: Checked, progress: Progress, today: date) -> None:
    for number, cells in data.rows:
        row = _Row(Sheet.PUPILS, number, cells, out.problems)
        label = re.sub(r"\s+", " ", row.raw("class")).strip()
        found = _CLASS_RE.match(label)
        if not label:
            row.fail("required", "class")
        elif not found or int(found.group(1)) > 12:
            row.fail("bad_class", "class")
        last_name = row.text("last_name", required=True)
        first_name = row.text("first_name", required=True)
        patronymic = row.text("patronymic")
        iin, iin_birth, iin_sex = row.iin("iin")
        birth_date = row.date("birth_date")
        sex = row.choice("sex", SEX_VALUES, "bad_sex")
        if iin and birth_date and birth_date != iin_birth:
            row.fail("iin_birth_date", "iin")
        if iin and sex and sex != iin_sex:
            row.fail("iin_sex", "iin")
        birth_date, sex = birth_date or iin_birth, sex or iin_sex
        if birth_date is None and not row.raw("birth_date") and not row.raw("iin"):
            row.fail("required", "birth_date")
        if sex is None and not row.raw("sex") and not row.raw("iin"):
            row.fail("required", "sex")
        if birth_date is not None and age_on(birth_date, today) not in PUPIL_AGES:
            row.fail("implausible_birth_date", "birth_date", age=age_on(birth_date, today))
        kundelik_id = row.text("kundelik_id", limit=MAX_ID)
        file_number = row.text("file_number", limit=MAX_ID)
        if not (row.raw("iin") or kundelik_id or file_number) and not row.failed:
            row.fail("no_identifier", "iin")
        if not row.failed and found and last_name and first_name and birth_date and sex:
            out.pupils.append(PupilRecord(
                number, int(found.group(1)), found.group(2).upper(), last_name, first_name, patronymic, iin,
                birth_date, sex, kundelik_id, file_number))
        progress(1)
    keyed = [(p.row, {"iin": p.iin or "", "kundelik_id": p.kundelik_id or "", "file_number": p.file_number or "",
                      "person": f"{p.last_name.casefold()}|{p.first_name.casefold()}|{p.birth_date}"})
             for p in out.pupils]
    doubled = _duplicates(out, Sheet.PUPILS, keyed, ["iin", "kundelik_id", "file_number"])
    _duplicates(out, Sheet.PUPILS, [(r, k) for r, k in keyed if r not in doubled], ["person"],
                code="possible_duplicate")
    out.pupils = [p for p in out.pupils if p.row not in doubled]


def _phone(row: _Row) -> str | None:
    try:
        return normalise_phone(row.raw("phone"))
    except ValueError:
        row.fail("bad_phone", "phone")
        return None


def _email(row: _Row) -> str | None:
    raw = row.raw("email").strip()
    if not raw:
        return None
    try:
        return validate_email(raw, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        row.fail("bad_email", "email")
        return None


def _parents(data: SheetRows, out: Checked, progress: Progress) -> None:
    for number, cells in data.rows:
        row = _Row(Sheet.PARENTS, number, cells, out.problems)
        pupil_iin, _birth, _sex = row.iin("pupil_iin")
        pupil_file_number = row.text("pupil_file_number", limit=MAX_ID)
        if not row.raw("pupil_iin") and not pupil_file_number:
            row.fail("no_pupil_reference", "pupil_iin")
        last_name = row.text("last_name", required=True)
        first_name = row.text("first_name", required=True)
        patronymic = row.text("patronymic")
        relation = row.choice("relation", RELATION_VALUES, "bad_relation", required=True)
        phone, email = _phone(row), _email(row)
        if not row.raw("phone").strip() and not row.raw("email").strip():
            row.fail("missing_contact", "phone")
        legal = row.choice("legal_representative", YES_NO_VALUES, "bad_yes_no")
        if not row.failed and last_name and first_name and relation and (phone or email):
            out.parents.append(ParentRecord(number, pupil_iin, pupil_file_number, last_name, first_name, patronymic,
                                            relation, phone, email, legal != "no"))
        progress(1)
    keyed = [(p.row, {"contact": f"{p.pupil_iin or ''}|{p.pupil_file_number or ''}|{p.contact[1]}"})
             for p in out.parents]
    doubled = _duplicates(out, Sheet.PARENTS, keyed, ["contact"])
    out.parents = [p for p in out.parents if p.row not in doubled]
    _same_contact_other_name(out)


def _same_contact_other_name(out: Checked) -> None:
    """One e-mail (or phone, without an e-mail) is one person: its rows must carry one name."""
    first: dict[tuple[str, str], ParentRecord] = {}
    keep = []
    for record in out.parents:
        earlier = first.setdefault(record.contact, record)
        if earlier is not record and earlier.full_name.casefold() != record.full_name.casefold():
            out.problems.append(problem("contact_other_name", Sheet.PARENTS, record.row, record.contact[0],
                                        what=record.contact[0], other=earlier.row))
            continue
        keep.append(record)
    out.parents = keep


def _duplicates(out: Checked, sheet: Sheet, keyed: list[tuple[int, dict[str, str]]], keys: list[str], *,
                code: str = "duplicate_row") -> set[int]:
    """Report rows whose value of a key repeats an earlier row's (empty values never match); their rows."""
    if not keyed:
        return set()
    frame = pd.DataFrame([{"row": number, **values} for number, values in keyed])
    doubled: set[int] = set()
    for key in keys:
        column = frame[frame[key] != ""]
        repeats = column[column.duplicated(key, keep="first")]
        if repeats.empty:
            continue
        firsts = column.drop_duplicates(key, keep="first").set_index(key)["row"]
        for number, value in zip(repeats["row"], repeats[key], strict=True):
            if int(number) in doubled:
                continue
            doubled.add(int(number))
            where = key if key in ("iin", "kundelik_id", "file_number") else None
            out.problems.append(problem(code, sheet, int(number), where, what=key, other=int(firsts[value])))
    return doubled


def check(sheets: Iterable[SheetRows], *, today: date, progress: Progress | None = None) -> Checked:
    """Check every row of the given sheets; ``progress(n)`` is called as rows are done."""
    out = Checked()
    step = progress or (lambda _n: None)
    by_sheet = {data.sheet: data for data in sheets}
    out.sheets = set(by_sheet)
    if Sheet.CLASSES in by_sheet:
        _classes(by_sheet[Sheet.CLASSES], out, step)
    if Sheet.PUPILS in by_sheet:
        _pupils(by_sheet[Sheet.PUPILS], out, step, today)
    if Sheet.PARENTS in by_sheet:
        _parents(by_sheet[Sheet.PARENTS], out, step)
    return out
