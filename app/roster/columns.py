"""The roster file's sheets and columns: headers in Kazakh, Russian and English, and the allowed values.

A file is recognised by its header rows, never by sheet or file names: each sheet's header may use the column
names of any of the three languages or the English keys (``last_name``), in any order and letter case. The
template (:mod:`app.roster.workbook`) writes the headers of the user's language; the README lists them all.
Headers are data here, not translations: a changed translation must not stop last year's files from reading.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l


class Sheet(enum.StrEnum):
    CLASSES = "classes"
    PUPILS = "pupils"
    PARENTS = "parents"


#: Sheet names in the template and in the report.
SHEET_LABELS = {
    Sheet.CLASSES: _l("Classes"),
    Sheet.PUPILS: _l("Pupils"),
    Sheet.PARENTS: _l("Parents"),
}
SHEET_TITLES = {
    Sheet.CLASSES: {"kk": "Сыныптар", "ru": "Классы", "en": "Classes"},
    Sheet.PUPILS: {"kk": "Оқушылар", "ru": "Ученики", "en": "Pupils"},
    Sheet.PARENTS: {"kk": "Ата-аналар", "ru": "Родители", "en": "Parents"},
}


@dataclass(frozen=True)
class Column:
    """One column: its key, its header in each language, whether a value is required, and its help text."""

    key: str
    kk: str
    ru: str
    en: str
    required: bool
    help: object
    example: str = ""
    #: Written as a text column in the template (Excel keeps leading zeros of IINs and phones).
    text: bool = False
    aliases: tuple[str, ...] = ()

    def header(self, language: str) -> str:
        """The header of this column in ``language`` (kk, ru or en)."""
        return {"kk": self.kk, "ru": self.ru}.get(language, self.en)

    def names(self) -> set[str]:
        """Every header that names this column, normalised."""
        return {normalise_header(name) for name in (self.key, self.kk, self.ru, self.en, *self.aliases)}


def normalise_header(text: str) -> str:
    """A header compared without case, notes in brackets, a required-mark ``*``, ``ё`` or punctuation runs."""
    text = unicodedata.normalize("NFC", str(text)).casefold().replace("ё", "е")
    text = re.sub(r"\(.*?\)|\[.*?\]|\*", " ", text)
    return " ".join(re.sub(r"[\s_\-.:/]+", " ", text).split())


_SEX_HELP = _l("male or female (also м/ж, ер/әйел); may be left empty when the IIN is given: it says the sex.")
_DATE_HELP = _l("YYYY-MM-DD or DD.MM.YYYY; may be left empty when the IIN is given: it says the date.")
_NAME_HELP = _l("As in the document. Stored encrypted.")

CLASS_COLUMNS = (
    Column("grade", "Сынып нөмірі", "Номер класса", "Grade", True, _l("A number from 0 (pre-school) to 12."), "7"),
    Column("letter", "Сынып әрпі", "Литера", "Letter", True, _l("One to four letters, e.g. А or Ә."), "А",
           aliases=("литер", "буква")),
    Column("language", "Оқыту тілі", "Язык обучения", "Language of instruction", False,
           _l("kk (Kazakh) or ru (Russian); empty: the school's language."), "kk"),
)

PUPIL_COLUMNS = (
    Column("class", "Сынып", "Класс", "Class", True,
           _l("Grade and letter, e.g. 7А; the class must exist for the school year or be on the Classes sheet."),
           "7А"),
    Column("last_name", "Тегі", "Фамилия", "Surname", True, _NAME_HELP, "Сейітова"),
    Column("first_name", "Аты", "Имя", "First name", True, _NAME_HELP, "Айгерім"),
    Column("patronymic", "Әкесінің аты", "Отчество", "Patronymic", False, _NAME_HELP, "Маратқызы"),
    Column("iin", "ЖСН", "ИИН", "IIN", False,
           _l("12 digits. Required unless a Kundelik ID or a personal file number identifies the pupil."),
           "130405600127", text=True),
    Column("birth_date", "Туған күні", "Дата рождения", "Date of birth", False, _DATE_HELP, "2013-04-05"),
    Column("sex", "Жынысы", "Пол", "Sex", False, _SEX_HELP, "female"),
    Column("kundelik_id", "Күнделік ID", "ID в Кунделике", "Kundelik ID", False,
           _l("The pupil's person id in Kundelik, if known."), "", text=True,
           aliases=("ID в Күнделік", "ID Кунделик")),
    Column("file_number", "Жеке іс нөмірі", "Номер личного дела", "Personal file number", False,
           _l("The school's own number for the pupil, unique in the school."), "", text=True),
)

PARENT_COLUMNS = (
    Column("pupil_iin", "Оқушының ЖСН", "ИИН ученика", "Pupil's IIN", False,
           _l("The child's IIN, or leave empty and give the child's personal file number."), "130405600127",
           text=True),
    Column("pupil_file_number", "Оқушының жеке іс нөмірі", "Номер личного дела ученика",
           "Pupil's personal file number", False, _l("Used when the child has no IIN in the file."), "", text=True),
    Column("last_name", "Тегі", "Фамилия", "Surname", True, _l("The parent's surname."), "Сейітова"),
    Column("first_name", "Аты", "Имя", "First name", True, _l("The parent's first name."), "Гүлнар"),
    Column("patronymic", "Әкесінің аты", "Отчество", "Patronymic", False, _l("The parent's patronymic."), ""),
    Column("relation", "Туыстығы", "Кем приходится", "Relation", True,
           _l("mother, father, guardian or other (also ана/әке/қамқоршы, мать/отец/опекун)."), "mother"),
    Column("phone", "Телефон", "Телефон", "Phone", False,
           _l("A Kazakhstan mobile number, e.g. +7 701 123 45 67. A phone or an e-mail is required."),
           "+77011234567", text=True),
    Column("email", "Эл. пошта", "Эл. почта", "E-mail", False, _l("A phone or an e-mail is required."),
           "", aliases=("email", "электронная почта", "электрондық пошта")),
    Column("legal_representative", "Заңды өкілі", "Законный представитель", "Legal representative", False,
           _l("yes or no (also иә/жоқ, да/нет); empty: yes. Only a legal representative gives consent."), "yes"),
)

COLUMNS: Mapping[Sheet, tuple[Column, ...]] = {
    Sheet.CLASSES: CLASS_COLUMNS,
    Sheet.PUPILS: PUPIL_COLUMNS,
    Sheet.PARENTS: PARENT_COLUMNS,
}

#: Columns whose presence says which sheet a header row belongs to (checked in this order).
SIGNATURES: tuple[tuple[Sheet, frozenset[str]], ...] = (
    (Sheet.PARENTS, frozenset({"relation"})),
    (Sheet.PARENTS, frozenset({"pupil_iin"})),
    (Sheet.PARENTS, frozenset({"pupil_file_number"})),
    (Sheet.PUPILS, frozenset({"class", "last_name"})),
    (Sheet.CLASSES, frozenset({"grade", "letter"})),
)


def column(sheet: Sheet, key: str) -> Column:
    """The column ``key`` of ``sheet``."""
    return next(c for c in COLUMNS[sheet] if c.key == key)


@dataclass
class HeaderMatch:
    """How one header row maps to a sheet: column index -> key, plus what is missing, doubled or unknown."""

    sheet: Sheet | None
    positions: dict[int, str] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    doubled: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


def _lookup(sheet: Sheet) -> dict[str, str]:
    return {name: c.key for c in COLUMNS[sheet] for name in c.names()}


_LOOKUPS = {sheet: _lookup(sheet) for sheet in Sheet}


def match_header(cells: list[str]) -> HeaderMatch:
    """Recognise the sheet of a header row and map its columns (empty headers are ignored)."""
    names = [normalise_header(cell) for cell in cells]
    sheet = None
    for candidate, signature in SIGNATURES:
        keys = {_LOOKUPS[candidate].get(name) for name in names}
        if signature <= keys:
            sheet = candidate
            break
    if sheet is None:
        return HeaderMatch(sheet=None)
    match = HeaderMatch(sheet=sheet)
    lookup = _LOOKUPS[sheet]
    for index, (name, raw) in enumerate(zip(names, cells, strict=True)):
        if not name:
            continue
        key = lookup.get(name)
        if key is None:
            match.unknown.append(str(raw).strip())
        elif key in match.positions.values():
            match.doubled.append(key)
        else:
            match.positions[index] = key
    present = set(match.positions.values())
    match.missing = [c.key for c in COLUMNS[sheet] if c.required and c.key not in present]
    return match


# --- allowed values ------------------------------------------------------------------------------


def _vocabulary(words: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    return {normalise_value(word): value for value, synonyms in words.items() for word in (value, *synonyms)}


def normalise_value(text: str) -> str:
    """A cell value compared without case, surrounding spaces, ``ё`` or a trailing dot ("муж.")."""
    return unicodedata.normalize("NFC", text).casefold().replace("ё", "е").strip().rstrip(".").strip()


SEX_VALUES = _vocabulary({
    "male": ("m", "м", "муж", "мужской", "ер", "ұл", "boy", "мальчик"),
    "female": ("f", "ж", "жен", "женский", "әйел", "қыз", "girl", "девочка"),
})
LANGUAGE_VALUES = _vocabulary({
    "kk": ("kz", "kaz", "kazakh", "қаз", "қазақ", "қазақша", "қазақ тілі", "каз", "казахский"),
    "ru": ("rus", "russian", "рус", "русский", "орыс", "орысша", "орыс тілі"),
})
RELATION_VALUES = _vocabulary({
    "mother": ("мать", "мама", "ана", "анасы"),
    "father": ("отец", "папа", "әке", "әкесі"),
    "guardian": ("опекун", "попечитель", "қамқоршы", "қамқоршысы"),
    "other": ("другое", "другой", "басқа"),
})
YES_NO_VALUES = _vocabulary({
    "yes": ("y", "1", "true", "да", "д", "иә", "ия"),
    "no": ("n", "0", "false", "нет", "н", "жоқ"),
})

#: The word written for a stored value in the template's drop-down lists and in exports, per language.
DISPLAY_VALUES: dict[str, dict[str, dict[str, str]]] = {
    "sex": {"kk": {"male": "ер", "female": "әйел"}, "ru": {"male": "муж", "female": "жен"},
            "en": {"male": "male", "female": "female"}},
    "relation": {"kk": {"mother": "анасы", "father": "әкесі", "guardian": "қамқоршысы", "other": "басқа"},
                 "ru": {"mother": "мать", "father": "отец", "guardian": "опекун", "other": "другое"},
                 "en": {"mother": "mother", "father": "father", "guardian": "guardian", "other": "other"}},
    "language": {lang: {"kk": "kk", "ru": "ru"} for lang in ("kk", "ru", "en")},
    "legal_representative": {"kk": {"yes": "иә", "no": "жоқ"}, "ru": {"yes": "да", "no": "нет"},
                             "en": {"yes": "yes", "no": "no"}},
}


def display_value(key: str, value: str, language: str) -> str:
    """``value`` as the template writes it in ``language`` (unchanged for columns without a list)."""
    words = DISPLAY_VALUES.get(key, {})
    return words.get(language, words.get("en", {})).get(value, value)
