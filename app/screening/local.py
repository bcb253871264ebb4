"""Local methods: a school's own instruments, uploaded as the same YAML files as ``instruments/``.

An upload is either the four files (``instrument.yaml``, ``texts.kk|ru|en.yaml``) or one .zip holding
them. Each file is size-limited, read with a safe loader that refuses anchors and aliases and deep
nesting, then checked by the shipped instruments' own :func:`validate_instrument`; every problem is
reported with its file and, where it can be found, its line. Nothing is saved unless all is valid.

A stored version is never edited (a correction is a new version) and is used under the reference
``local:<school_id>:<id>@<version>`` through the same scoring, alert rules and FHIR export as the
shipped instruments. Whatever its files claim, a local method is shown as "local method, not validated".
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any

import yaml
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.exc import IntegrityError

from app.auth.models import User
from app.core import audit
from app.core.audit import AuditAction
from app.core.models import School, utcnow
from app.extensions import db
from app.screening import labels
from app.screening.fhir import BASE_URL
from app.screening.instruments import Instrument, UnknownInstrumentError, build_instrument, validate_instrument
from app.screening.models import LocalInstrument
from app.screening.services import registry

LOCAL_PREFIX = "local:"
#: The text status every local method carries, whatever its files say.
LOCAL_TEXT_STATUS = "local_not_validated"
LANGUAGES = ("kk", "ru", "en")
FILE_NAMES = ("instrument.yaml", "texts.kk.yaml", "texts.ru.yaml", "texts.en.yaml")
MAX_FILE_BYTES = 256 * 1024
MAX_ARCHIVE_BYTES = 4 * MAX_FILE_BYTES
MAX_ARCHIVE_ENTRIES = 20
MAX_DEPTH = 20
#: Keeps "local:<school>:<id>" within the 40 characters results store for an instrument id.
MAX_ID_LENGTH = 24
TEMPLATE_DIR = Path(__file__).resolve().parent / "local_template"
_REF = re.compile(r"^local:(\d+):([a-z0-9][a-z0-9_.-]*)@([0-9]+(?:\.[0-9]+){1,2})$")
_PATH = re.compile(r"^[a-z_][\w.-]*(?:\[\d+\])*(?:\.[\w-]+(?:\[\d+\])*)*$")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an upload: which file ("" for the upload as a whole), which line, what."""

    file: str
    line: int | None
    message: str  # or a lazy translation, rendered in the reader's language


class LocalUploadError(ValueError):
    """The upload was refused; ``problems`` lists every reason found."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the upload")
        order = ("", *FILE_NAMES)  # the upload as a whole first, then file by file
        self.problems = sorted(problems, key=lambda p: order.index(p.file) if p.file in order else 0)


# --- reading the files ------------------------------------------------------------------------


class _Refused(yaml.YAMLError):
    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line, self.message = line, message


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases (no "billion laughs") and nesting deeper than MAX_DEPTH."""

    depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        line = event.start_mark.line + 1
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise _Refused(line, _l("anchors and aliases (&name, *name) are not allowed; write the text out in full"))
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _Refused(line, _l("nested more than %(depth)d levels deep", depth=MAX_DEPTH))
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _decode(name: str, data: bytes) -> tuple[str | None, Problem | None]:
    if len(data) > MAX_FILE_BYTES:
        return None, Problem(name, None, _l("the file is larger than %(kb)d KB", kb=MAX_FILE_BYTES // 1024))
    try:
        return data.decode("utf-8-sig"), None
    except UnicodeDecodeError:
        return None, Problem(name, None, _l("the file is not UTF-8 text; save it with the encoding UTF-8"))


def _parse(name: str, text: str) -> tuple[Any, yaml.Node | None, Problem | None]:
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        return (loader.construct_document(node) if node is not None else None), node, None
    except _Refused as exc:
        return None, None, Problem(name, exc.line, exc.message)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        detail = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        line = mark.line + 1 if mark else None
        return None, None, Problem(name, line, _l("not valid YAML: %(detail)s", detail=detail))
    except yaml.YAMLError as exc:
        return None, None, Problem(name, None, _l("not valid YAML: %(detail)s", detail=str(exc)))
    finally:
        loader.dispose()


def _unzip(data: bytes) -> tuple[dict[str, bytes], list[Problem]]:
    """The four files from a .zip (one folder level allowed; other files ignored), size-checked."""
    if len(data) > MAX_ARCHIVE_BYTES:
        return {}, [Problem("", None, _l("The zip file is larger than %(kb)d KB.", kb=MAX_ARCHIVE_BYTES // 1024))]
    found: dict[str, bytes] = {}
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = [i for i in archive.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX/")]
            if len(entries) > MAX_ARCHIVE_ENTRIES:
                too_many = _l("The zip holds too many files; put only the method's four files in it.")
                return {}, [Problem("", None, too_many)]
            for info in entries:
                name = PurePosixPath(info.filename).name
                if name not in FILE_NAMES:
                    continue
                if name in found:
                    return {}, [Problem(name, None, _l("the zip holds this file twice; put one method per zip"))]
                if info.file_size > MAX_FILE_BYTES:
                    return {}, [Problem(name, None, _l("the file is larger than %(kb)d KB", kb=MAX_FILE_BYTES // 1024))]
                with archive.open(info) as fh:
                    found[name] = fh.read(MAX_FILE_BYTES + 1)  # a lying header cannot make us read more
    except (zipfile.BadZipFile, RuntimeError, NotImplementedError, EOFError, ValueError, OSError):
        return {}, [Problem("", None, _l("The zip file cannot be opened (damaged, encrypted or not a zip)."))]
    return found, []


def read_upload(*, archive: bytes | None, files: Mapping[str, bytes | None]) -> dict[str, str]:
    """The four files' text, from a .zip or from the separate files; raises LocalUploadError."""
    given = {name: data for name, data in files.items() if data}
    if archive and given:
        raise LocalUploadError([Problem("", None, _l("Upload either one zip file or the four files, not both."))])
    raw, problems = _unzip(archive) if archive else (given, [])
    texts: dict[str, str] = {}
    for name in FILE_NAMES:
        if problems:
            break
        if name not in raw:
            problems.append(Problem(name, None, _l("this file is missing")))
            continue
        text, problem = _decode(name, raw[name])
        if problem:
            problems.append(problem)
        else:
            texts[name] = text or ""
    if problems:
        raise LocalUploadError(problems)
    return texts


# --- validation -------------------------------------------------------------------------------


def _line_of(node: yaml.Node | None, path: str) -> int | None:
    """The line of a "a.b[2].c" path in a composed document (the key's line; the deepest part found)."""
    if node is None:
        return None
    found = None
    for part in re.findall(r"\[\d+\]|[^.\[\]]+", path):
        if part.startswith("[") and isinstance(node, yaml.SequenceNode) and int(part[1:-1]) < len(node.value):
            node = node.value[int(part[1:-1])]
            found = node.start_mark.line + 1
        elif isinstance(node, yaml.MappingNode):
            match = [(k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part]
            if not match:
                break
            found, node = match[0][0].start_mark.line + 1, match[0][1]
        else:
            break
    return found


def _problem(message: str, nodes: Mapping[str, yaml.Node | None]) -> Problem:
    """Turn one validate_instrument message ("file: path: what") into a Problem with a line."""
    name, _sep, rest = message.partition(": ")
    if name not in nodes:
        return Problem("", None, message)
    path = rest.partition(": ")[0]
    line = _line_of(nodes[name], path) if _PATH.match(path) else None
    if line is None and name.startswith("texts."):
        for word, key in (("item", "strings.items"), ("option", "strings.options"), ("message", "strings.messages")):
            if word in rest:
                line = _line_of(nodes[name], key)
                break
    return Problem(name, line, rest)


def check_files(*, school: School, texts: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Parse and validate the four files for ``school``; return (structure, texts by language)."""
    data: dict[str, Any] = {}
    nodes: dict[str, yaml.Node | None] = {}
    problems: list[Problem] = []
    for name in FILE_NAMES:
        parsed, node, problem = _parse(name, texts[name])
        if problem:
            problems.append(problem)
        data[name], nodes[name] = parsed, node
    if problems:
        raise LocalUploadError(problems)
    structure = data["instrument.yaml"]
    by_lang = {lang: data[f"texts.{lang}.yaml"] for lang in LANGUAGES}
    for name, value in data.items():
        if not isinstance(value, dict):
            problems.append(Problem(name, 1, _l("the file must hold a YAML mapping (key: value lines)")))
    if not problems:
        try:
            problems = [_problem(m, nodes) for m in validate_instrument(structure, by_lang)]
            if not problems:
                build_instrument(structure, by_lang)  # what use will do; it must not fail later
        except (TypeError, ValueError, KeyError, AttributeError, IndexError):
            # The validator should explain every mistake; an upload must never end in a server error.
            current_app.logger.exception("local method upload: validator failed on school %s", school.id)
            problems = [Problem("", None, _l("The files could not be checked: a value has an unexpected form. "
                                             "Compare them with the example files."))]
    if not problems:
        problems = _local_rules(school, structure, nodes["instrument.yaml"])
    if problems:
        raise LocalUploadError(problems)
    return structure, by_lang


def _local_rules(school: School, structure: Mapping[str, Any], node: yaml.Node | None) -> list[Problem]:
    name, iid, version = "instrument.yaml", structure["id"], structure["version"]
    problems = []
    if len(iid) > MAX_ID_LENGTH:
        problems.append(Problem(name, _line_of(node, "id"), _l(
            "id: %(id)s is longer than %(n)d characters; choose a shorter id", id=iid, n=MAX_ID_LENGTH)))
    if iid in registry():
        problems.append(Problem(name, _line_of(node, "id"), _l(
            "id: %(id)s is an instrument shipped with Senim; give your local method an id of its own", id=iid)))
    if structure["licence"]["electronic_use"] != "allowed":
        problems.append(Problem(name, _line_of(node, "licence.electronic_use"), _l(
            "licence.electronic_use: only methods whose licence allows electronic use can be uploaded")))
    own = {m.instrument_id for m in school_methods([school.id], include_retired=False)}
    for n, rule in enumerate(structure.get("alerts") or ()):
        target = rule.get("launch_instrument")
        if target is not None and (target == iid or (target not in registry() and target not in own)):
            problems.append(Problem(name, _line_of(node, f"alerts[{n}].launch_instrument"), _l(
                "launch_instrument: %(target)s is neither an instrument shipped with Senim nor another method of "
                "your school; name the instrument the pupil should answer next (for example asq)", target=target)))
    if _find(school.id, iid, version) is not None:
        problems.append(Problem(name, _line_of(node, "version"), _l(
            "version: %(id)s %(version)s is already published for this school and is never changed; "
            "upload the corrected method as a new version (for example %(next)s)",
            id=iid, version=version, next=_next_version(version))))
    return problems


def _next_version(version: str) -> str:
    parts = version.split(".")
    return ".".join([*parts[:-1], str(int(parts[-1]) + 1)])


def _find(school_id: int, instrument_id: str, version: str) -> LocalInstrument | None:
    return db.session.execute(select(LocalInstrument).where(
        LocalInstrument.school_id == school_id, LocalInstrument.instrument_id == instrument_id,
        LocalInstrument.version == version)).scalar_one_or_none()


def _digest(texts: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    for name in FILE_NAMES:
        digest.update(name.encode() + b"\0" + hashlib.sha256(texts[name].encode()).digest())
    return digest.hexdigest()


# --- changes ----------------------------------------------------------------------------------


def upload(*, actor: User, school: School, archive: bytes | None,
           files: Mapping[str, bytes | None]) -> LocalInstrument:
    """Validate and store a local method for ``school`` and audit it; LocalUploadError saves nothing."""
    texts = read_upload(archive=archive, files=files)
    structure, _texts = check_files(school=school, texts=texts)
    local = LocalInstrument(
        school_id=school.id, instrument_id=structure["id"], version=structure["version"],
        instrument_yaml=texts["instrument.yaml"], texts_kk_yaml=texts["texts.kk.yaml"],
        texts_ru_yaml=texts["texts.ru.yaml"], texts_en_yaml=texts["texts.en.yaml"],
        sha256=_digest(texts), uploaded_by_id=actor.id, uploaded_at=utcnow())
    try:
        db.session.add(local)
        db.session.flush()
    except IntegrityError:  # the same version uploaded at the same moment by someone else
        db.session.rollback()
        raise LocalUploadError([Problem("instrument.yaml", None, _l(
            "version: this version is already published for this school; upload a new version"))]) from None
    audit.record(actor, AuditAction.LOCAL_INSTRUMENT_UPLOAD, school_id=school.id, object_type="local_instrument",
                 object_id=local.uuid, details={"ref": local.ref, "sha256": local.sha256})
    db.session.commit()
    return local


def retire(*, actor: User, local: LocalInstrument) -> None:
    """Hide a local method from new campaigns and paper entry (results that used it stay readable)."""
    if local.retired_at is not None:
        return
    local.retired_at, local.retired_by_id = utcnow(), actor.id
    audit.record(actor, AuditAction.LOCAL_INSTRUMENT_RETIRE, school_id=local.school_id,
                 object_type="local_instrument", object_id=local.uuid, details={"ref": local.ref})
    db.session.commit()


# --- use --------------------------------------------------------------------------------------


def instrument_of(local: LocalInstrument) -> Instrument:
    """The stored method as an :class:`Instrument` (parsed once per content), labelled not validated."""
    cache = current_app.extensions.setdefault("senim_local_instruments", {})
    key = (local.id, local.school_id, local.sha256)
    if key not in cache:
        texts = {"instrument.yaml": local.instrument_yaml, "texts.kk.yaml": local.texts_kk_yaml,
                 "texts.ru.yaml": local.texts_ru_yaml, "texts.en.yaml": local.texts_en_yaml}
        data = {name: _parse(name, text)[0] for name, text in texts.items()}
        built = build_instrument(data["instrument.yaml"], {lang: data[f"texts.{lang}.yaml"] for lang in LANGUAGES})
        cache[key] = dataclasses.replace(
            built, id=f"{LOCAL_PREFIX}{local.school_id}:{built.id}", status="active", codes=(),
            canonical_url=f"{BASE_URL}/Questionnaire/local/{local.school_id}/{built.id}",
            # A language whose file says it has no text stays "not_available", so that it is not offered.
            texts=MappingProxyType({
                lang: t if t.status == "not_available"
                # Nor does a school's own file vouch for an official text or a validation.
                else dataclasses.replace(t, status=LOCAL_TEXT_STATUS, verified_against_source=False, citation=None,
                                         validated_in=(), validation_citation=None, adaptation=None,
                                         part_status=MappingProxyType({}))
                for lang, t in built.texts.items()}))
    return cache[key]


def resolve(ref: str, *, for_school: int | None = None) -> Instrument:
    """The instrument of a "local:<school>:<id>@<version>" reference.

    With ``for_school`` (choosing an instrument for new use) only that school's methods that are not
    retired resolve; without it (sessions, results, exports) any stored version does.
    """
    match = _REF.match(ref)
    if match is None or (for_school is not None and int(match[1]) != for_school):
        raise UnknownInstrumentError(f"unknown local instrument {ref!r}")
    local = _find(int(match[1]), match[2], match[3])
    if local is None or (for_school is not None and local.retired_at is not None):
        raise UnknownInstrumentError(f"unknown local instrument {ref!r}")
    return instrument_of(local)


def school_methods(school_ids: Iterable[int] | Select, *, include_retired: bool = True) -> list[LocalInstrument]:
    """Local methods of ``school_ids`` (ids or a scoped query of ids, from the caller's scope), newest first."""
    ids = school_ids if isinstance(school_ids, Select) else list(school_ids)
    query = select(LocalInstrument).where(LocalInstrument.school_id.in_(ids))
    if not include_retired:
        query = query.where(LocalInstrument.retired_at.is_(None))
    return list(db.session.execute(query.order_by(LocalInstrument.uploaded_at.desc())).scalars())


def title(instrument: Instrument) -> str:
    """A local method's title in the interface language, else in another language its files have a text in."""
    texts = labels.texts_for(instrument)
    if texts is None:  # every file says "not_available": any title it has beats none
        texts = next(iter(instrument.texts.values()))
    return texts.title


def choices(school_ids: Iterable[int]) -> list[tuple[str, str]]:
    """(ref, label) of the schools' local methods that may be used in new campaigns and paper entry."""
    result = []
    for local in school_methods(school_ids, include_retired=False):
        result.append((local.ref, _("%(title)s (%(id)s %(version)s). Local method, not validated.",
                                    title=title(instrument_of(local)), id=local.instrument_id,
                                    version=local.version)))
    return result


def template_zip() -> bytes:
    """A zip of the fictional example method a psychologist can start from."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in FILE_NAMES:
            archive.writestr(f"example-mood/{name}", (TEMPLATE_DIR / name).read_text(encoding="utf-8"))
    return buffer.getvalue()
