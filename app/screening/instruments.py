"""Screening instruments as immutable objects, loaded from ``instruments/<id>/<version>/``.

Each version folder holds a language-neutral ``instrument.yaml`` and one ``texts.<lang>.yaml`` per
language. :func:`load_registry` validates them all (see :mod:`instrument_validation`) and refuses to
load anything invalid. Published versions are frozen: ``instruments/MANIFEST.sha256`` records a
digest of every active version folder and a test fails if one changes.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from app.screening.instrument_model import (
    AgeBands,
    AlertRule,
    BandRange,
    BandSet,
    Coding,
    Instrument,
    Item,
    Licence,
    MissingPolicy,
    Option,
    Outcome,
    PartStatus,
    Scale,
    Source,
    Texts,
    UnknownInstrumentError,
)
from app.screening.instrument_validation import REQUIRED_LANGUAGES, validate_instrument
from app.screening.rules import Severity, parse_condition

__all__ = [
    "DEFAULT_ROOT",
    "MANIFEST_NAME",
    "REQUIRED_LANGUAGES",
    "AgeBands",
    "AlertRule",
    "BandRange",
    "BandSet",
    "Coding",
    "Instrument",
    "InstrumentRegistry",
    "InstrumentValidationError",
    "Item",
    "Licence",
    "MissingPolicy",
    "Option",
    "Outcome",
    "Scale",
    "Source",
    "Texts",
    "UnknownInstrumentError",
    "build_instrument",
    "folder_digest",
    "instruments_root",
    "load_instrument_folder",
    "load_registry",
    "manifest_text",
    "read_manifest",
    "validate_instrument",
    "version_folders",
    "version_key",
]

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "instruments"
MANIFEST_NAME = "MANIFEST.sha256"


class InstrumentValidationError(ValueError):
    """Instrument data is invalid; ``errors`` lists every problem found."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors))
        self.errors = errors


def _coding(data: Mapping[str, Any] | None) -> Coding | None:
    return Coding(data["system"], data["code"], data.get("display")) if data else None


def _ranges(data: list[Mapping[str, Any]]) -> tuple[BandRange, ...]:
    return tuple(BandRange(r["code"], float(r["min"])) for r in data)


def build_instrument(structure: Mapping[str, Any], texts: Mapping[str, Mapping[str, Any]]) -> Instrument:
    """Build an :class:`Instrument` from data that :func:`validate_instrument` accepted."""
    option_sets = {
        name: tuple(Option(o["id"], o["value"], o.get("refusal", False), _coding(o.get("code")))
                    for o in options)
        for name, options in structure["option_sets"].items()
    }
    items = tuple(
        Item(i["id"], i["option_set"], option_sets[i["option_set"]], i.get("required", True),
             parse_condition(i["enable_when"]) if "enable_when" in i else None, _coding(i.get("code")))
        for i in structure["items"]
    )
    scoring = structure.get("scoring", {})
    scales = tuple(
        Scale(s["id"], s["method"], tuple(s.get("items", ())), frozenset(s.get("reverse", ())),
              MissingPolicy(**s["missing"]) if "missing" in s else MissingPolicy("none_allowed"),
              s.get("of"), s.get("multiply", 1), s.get("add", 0), _coding(s.get("code")),
              s.get("source"))
        for s in scoring.get("scales", ())
    )
    bands = tuple(
        BandSet(b["id"], b["scale"], b["kind"], _ranges(b["ranges"]),
                tuple(AgeBands(g["min_age"], g["max_age"], _ranges(g["ranges"]), g["source"], g.get("population"))
                      for g in b.get("by_age", ())), b["source"], b.get("population"))
        for b in scoring.get("bands", ())
    )
    outcomes = tuple(
        Outcome(o["id"], tuple((parse_condition(r["when"]), r["code"]) for r in o["rules"]), o["source"],
                o.get("population"))
        for o in scoring.get("outcomes", ())
    )
    alerts = tuple(
        AlertRule(a["id"], Severity(a["severity"]), parse_condition(a["when"]), a["message_key"],
                  a["source"], a.get("evaluate", "on_submit"), a.get("launch_instrument"), a.get("partial", False))
        for a in structure["alerts"]
    )
    lic = structure["licence"]
    audience = structure.get("audience", {})
    return Instrument(
        id=structure["id"], version=structure["version"], status=structure["status"],
        respondent=structure["respondent"],
        licence=Licence(lic["name"], lic["class"], lic["holder"], lic["statement"], lic["electronic_use"],
                        lic["citation"], lic.get("confirmation_recommended", False), lic.get("url")),
        sources=tuple(Source(s["id"], s["citation"], s.get("url")) for s in structure["sources"]),
        codes=tuple(c for c in (_coding(c) for c in structure.get("codes", ())) if c),
        items=items, scales=scales, bands=bands,
        definitions=MappingProxyType({k: parse_condition(v) for k, v in scoring.get("definitions", {}).items()}),
        outcomes=outcomes, alerts=alerts,
        texts=MappingProxyType({lang: _texts(lang, data) for lang, data in texts.items()}),
        validity_max_missing=scoring.get("validity", {}).get("max_missing"),
        canonical_url=structure.get("canonical_url"),
        min_age=audience.get("min_age"), max_age=audience.get("max_age"),
    )


def _texts(lang: str, data: Mapping[str, Any]) -> Texts:
    s = data["strings"]
    return Texts(
        language=lang, status=data["status"], translator=data["translator"], source=data["source"],
        text_version=data["text_version"], verified_against_source=data.get("verified_against_source", False),
        title=s["title"], instructions=s["instructions"], end_message=s["end_message"],
        copyright=s.get("copyright"), items=MappingProxyType(dict(s["items"])),
        options=MappingProxyType({k: MappingProxyType(dict(v)) for k, v in s["options"].items()}),
        messages=MappingProxyType(dict(s.get("messages", {}))), notes=data.get("notes"),
        citation=data.get("citation"), validated_in=tuple(data.get("validated_in", ())),
        validation_citation=data.get("validation_citation"), adaptation=data.get("adaptation"),
        part_status=MappingProxyType({part: PartStatus(p["status"], p.get("note"))
                                      for part, p in data.get("part_status", {}).items()}),
    )


def version_key(version: str) -> tuple[int, ...]:
    """Sort key for dotted versions ("1.10" after "1.9")."""
    return tuple(int(part) for part in version.split("."))


def _read_yaml(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def load_instrument_folder(folder: Path, *,
                           required_languages: Iterable[str] = REQUIRED_LANGUAGES) -> Instrument:
    """Load and validate one ``<id>/<version>/`` folder, raising InstrumentValidationError."""
    structure_path = folder / "instrument.yaml"
    if not structure_path.is_file():
        raise InstrumentValidationError([f"{folder}: no instrument.yaml"])
    try:
        structure = _read_yaml(structure_path)
        texts = {p.name.split(".")[1]: _read_yaml(p) for p in sorted(folder.glob("texts.*.yaml"))}
    except yaml.YAMLError as exc:
        raise InstrumentValidationError([f"{folder}: YAML syntax error: {exc}"]) from None
    errors = validate_instrument(structure, texts, required_languages=tuple(required_languages))
    if not errors and (folder.parent.name, folder.name) != (structure["id"], structure["version"]):
        errors.append(f"{folder}: folder must be named {structure['id']}/{structure['version']}/")
    if errors:
        raise InstrumentValidationError([f"{folder.parent.name}/{folder.name}: {e}" for e in errors])
    return build_instrument(structure, texts)


class InstrumentRegistry:
    """All loaded instruments, looked up by id and optional version (latest active by default)."""

    def __init__(self, instruments: Iterable[Instrument]) -> None:
        self._by_id: dict[str, dict[str, Instrument]] = {}
        for instrument in instruments:
            self._by_id.setdefault(instrument.id, {})[instrument.version] = instrument

    def get(self, instrument_id: str, version: str | None = None) -> Instrument:
        """The instrument ``id`` at ``version``, or its latest active version."""
        versions = self._by_id.get(instrument_id)
        if not versions:
            raise UnknownInstrumentError(f"unknown instrument {instrument_id!r} "
                                         f"(known: {', '.join(self.ids())})")
        if version is not None:
            if version not in versions:
                raise UnknownInstrumentError(f"instrument {instrument_id!r} has no version {version!r} "
                                             f"(known: {', '.join(self.versions(instrument_id))})")
            return versions[version]
        active = [v for v in versions.values() if v.status == "active"] or list(versions.values())
        return max(active, key=lambda i: version_key(i.version))

    def current(self) -> list[Instrument]:
        """The version of each instrument that new campaigns and paper forms use (its latest active one).

        Older versions stay loaded: results keep reading (and scoring) under the version they were taken with.
        """
        return [self.get(instrument_id) for instrument_id in self.ids()]

    def is_current(self, instrument: Instrument) -> bool:
        """True for the version new campaigns and paper forms use."""
        return self.get(instrument.id) is instrument

    def ids(self) -> list[str]:
        """Instrument ids, sorted."""
        return sorted(self._by_id)

    def versions(self, instrument_id: str) -> list[str]:
        """Versions of ``instrument_id``, oldest first."""
        return sorted(self._by_id.get(instrument_id, {}), key=version_key)

    def __iter__(self) -> Iterator[Instrument]:
        for instrument_id in self.ids():
            for version in self.versions(instrument_id):
                yield self._by_id[instrument_id][version]

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_id.values())

    def __contains__(self, instrument_id: object) -> bool:
        return instrument_id in self._by_id


def instruments_root() -> Path:
    """The instruments folder: ``$SENIM_INSTRUMENTS_DIR`` or the repository's ``instruments/``."""
    override = os.environ.get("SENIM_INSTRUMENTS_DIR")
    return Path(override) if override else DEFAULT_ROOT


def version_folders(root: Path) -> list[Path]:
    """Every ``<id>/<version>/`` folder holding an instrument.yaml, sorted."""
    return sorted(p.parent for p in root.glob("*/*/instrument.yaml"))


def load_registry(root: Path) -> InstrumentRegistry:
    """Load and validate every instrument version under ``root``; raise on any error."""
    instruments, errors = [], []
    for folder in version_folders(root):
        try:
            instrument = load_instrument_folder(folder)
        except InstrumentValidationError as exc:
            errors += exc.errors
            continue
        if not instrument.licence.electronic_use_allowed:
            errors.append(f"{instrument.ref}: licence.electronic_use is {instrument.licence.electronic_use!r}; "
                          "only instruments whose licence allows electronic use may be shipped")
        instruments.append(instrument)
    if errors:
        raise InstrumentValidationError(errors)
    return InstrumentRegistry(instruments)


def folder_digest(folder: Path) -> str:
    """SHA-256 over every file of a version folder (relative names and contents)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def manifest_text(root: Path) -> str:
    """Manifest lines ``<sha256>  <id>/<version>`` for every non-draft version under ``root``."""
    lines = []
    for folder in version_folders(root):
        if _read_yaml(folder / "instrument.yaml").get("status") != "draft":
            lines.append(f"{folder_digest(folder)}  {folder.parent.name}/{folder.name}\n")
    return "".join(lines)


def read_manifest(path: Path) -> dict[str, str]:
    """Parse a manifest file into ``{"id/version": sha256}``."""
    entries = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            digest, name = line.split(maxsplit=1)
            entries[name.strip()] = digest
    return entries
