"""School structure: region → district → school → class → pupil, and pupils' legal representatives."""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING
from uuid import uuid4

from flask_babel import get_locale
from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.core.encryption import Encrypted, blind_index
from app.extensions import Model

if TYPE_CHECKING:
    from app.auth.models import User


def age_on(birth_date: date, day: date) -> int:
    """Age in whole years on ``day`` of someone born on ``birth_date``."""
    years = day.year - birth_date.year
    if (day.month, day.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years


def utcnow() -> datetime:
    """Timezone-aware current time in UTC."""
    return datetime.now(UTC)


def new_uuid() -> str:
    """A random public identifier for URLs (never a sequential id)."""
    return str(uuid4())


class Language(enum.StrEnum):
    """Languages of instruction and of the interface."""

    KK = "kk"
    RU = "ru"
    EN = "en"


class Sex(enum.StrEnum):
    MALE = "male"
    FEMALE = "female"


class LocalizedNameMixin:
    """A name in Kazakh and in Russian; :attr:`name` picks the interface language."""

    #: Public name (not personal data).
    name_kk: Mapped[str] = mapped_column(String(200))
    name_ru: Mapped[str] = mapped_column(String(200))

    @property
    def name(self) -> str:
        locale = str(get_locale() or "kk")
        return self.name_ru if locale == "ru" else self.name_kk


class Region(LocalizedNameMixin, Model):
    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    districts: Mapped[list[District]] = relationship(back_populates="region", order_by="District.id")

    def __repr__(self) -> str:
        return f"<Region {self.id}>"


class District(LocalizedNameMixin, Model):
    __tablename__ = "districts"

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    region: Mapped[Region] = relationship(back_populates="districts")
    schools: Mapped[list[School]] = relationship(back_populates="district", order_by="School.id")

    def __repr__(self) -> str:
        return f"<District {self.id}>"


class School(LocalizedNameMixin, Model):
    __tablename__ = "schools"

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    #: Kundelik's id of the school, for roster sync (not personal data).
    kundelik_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: Interface language used when neither the user nor the browser chooses one.
    default_language: Mapped[str] = mapped_column(String(2), default=Language.KK.value)
    district: Mapped[District] = relationship(back_populates="schools")
    classes: Mapped[list[SchoolClass]] = relationship(
        back_populates="school", order_by="(SchoolClass.grade, SchoolClass.letter)"
    )

    def __repr__(self) -> str:
        return f"<School {self.id}>"


class SchoolClass(Model):
    __tablename__ = "school_classes"
    __table_args__ = (UniqueConstraint("school_id", "school_year", "grade", "letter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    #: 0 (pre-school) to 12.
    grade: Mapped[int]
    #: Parallel letter, e.g. "А", "Ә", "B".
    letter: Mapped[str] = mapped_column(String(4))
    #: First calendar year of the school year, e.g. 2026 for 2026–2027.
    school_year: Mapped[int]
    #: Language of instruction (kk or ru).
    language: Mapped[str] = mapped_column(String(2), default=Language.KK.value)
    #: Kundelik's id of the class (its edu group), set by the roster sync (app.kundelik.sync). Not personal data.
    kundelik_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    school: Mapped[School] = relationship(back_populates="classes")
    pupils: Mapped[list[Pupil]] = relationship(back_populates="school_class")

    @property
    def label(self) -> str:
        """Short label such as "7А"."""
        return f"{self.grade}{self.letter}"

    @property
    def school_year_label(self) -> str:
        return f"{self.school_year}–{self.school_year + 1}"

    def __repr__(self) -> str:
        return f"<SchoolClass {self.id}>"


class PupilSource(enum.StrEnum):
    """Where a pupil's record came from (roster import now; the Kundelik sync later)."""

    MANUAL = "manual"      # typed in on the pupil form
    IMPORT = "import"      # a CSV/XLSX roster file (app.roster)
    KUNDELIK = "kundelik"  # the Kundelik API sync


class Pupil(Model):
    """A pupil. Names and IIN are encrypted at rest; lookups go through keyed blind indexes."""

    __tablename__ = "pupils"
    __table_args__ = (UniqueConstraint("school_id", "import_key", name="uq_pupils_school_id_import_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Public id used in URLs and as the row binding of every ciphertext.
    uuid: Mapped[str] = mapped_column(String(36), unique=True, default=new_uuid)
    school_id: Mapped[int] = mapped_column(ForeignKey("schools.id"), index=True)
    class_id: Mapped[int | None] = mapped_column(ForeignKey("school_classes.id"), index=True)
    #: Sensitive (identity): AES-GCM ciphertexts of the names.
    last_name_ct: Mapped[bytes] = mapped_column(LargeBinary)
    first_name_ct: Mapped[bytes] = mapped_column(LargeBinary)
    patronymic_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: Sensitive (identity): AES-GCM ciphertext of the IIN.
    iin_ct: Mapped[bytes | None] = mapped_column(LargeBinary)
    #: Keyed HMAC of the IIN, for exact lookup; leaks only equality.
    iin_bidx: Mapped[bytes | None] = mapped_column(LargeBinary(16), unique=True)
    #: Keyed HMAC of "last first" within the school, for exact name search.
    name_bidx: Mapped[bytes | None] = mapped_column(LargeBinary(16), index=True)
    #: Moderately sensitive: needed for age-specific cut-offs.
    birth_date: Mapped[date]
    sex: Mapped[str] = mapped_column(String(6))
    #: Kundelik's person id, for roster sync.
    kundelik_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    #: The school's own number for the pupil (the personal file number), unique in the school; a roster file
    #: matches pupils without an IIN or Kundelik id by it. Identifying within the school only (not sensitive).
    import_key: Mapped[str | None] = mapped_column(String(64))
    #: PupilSource: where the record came from (not personal data).
    source: Mapped[str] = mapped_column(String(16), default=PupilSource.MANUAL.value,
                                        server_default=PupilSource.MANUAL.value)
    #: False once the pupil has left the school: the record is kept (never deleted by an import or sync).
    active: Mapped[bool] = mapped_column(default=True)
    #: When the pupil was marked as left (None while at school); not sensitive.
    left_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    last_name = Encrypted("last_name_ct")
    first_name = Encrypted("first_name_ct")
    patronymic = Encrypted("patronymic_ct")
    iin = Encrypted("iin_ct")

    school: Mapped[School] = relationship()
    school_class: Mapped[SchoolClass | None] = relationship(back_populates="pupils")
    guardian_links: Mapped[list[PupilGuardian]] = relationship(
        back_populates="pupil", cascade="all, delete-orphan"
    )

    @property
    def full_name(self) -> str:
        """"Last First Patronymic" (decrypts three fields)."""
        parts = [self.last_name, self.first_name, self.patronymic]
        return " ".join(p for p in parts if p)

    @property
    def short_name(self) -> str:
        """"Last First" for lists."""
        return f"{self.last_name} {self.first_name}"

    def age_on(self, day: date) -> int:
        """Age in whole years on ``day``."""
        return age_on(self.birth_date, day)

    def set_identity(
        self, *, last_name: str, first_name: str, patronymic: str | None, iin: str | None
    ) -> None:
        """Set the encrypted names and IIN together with their blind indexes."""
        self.last_name = last_name.strip()
        self.first_name = first_name.strip()
        self.patronymic = (patronymic or "").strip() or None
        self.iin = iin or None
        self.iin_bidx = blind_index(iin, scope="iin") if iin else None
        self.name_bidx = pupil_name_index(self.school_id, last_name, first_name)

    def __repr__(self) -> str:
        return f"<Pupil {self.id}>"


def pupil_name_index(school_id: int, last_name: str, first_name: str) -> bytes:
    """Blind index of a pupil's name, scoped to the school (differs between schools)."""
    return blind_index(f"{last_name} {first_name}", scope=f"school:{school_id}")


class GuardianRelation(enum.StrEnum):
    MOTHER = "mother"
    FATHER = "father"
    GUARDIAN = "guardian"
    OTHER = "other"


class PupilGuardian(Model):
    """A parent or other legal representative (a user) linked to a pupil."""

    __tablename__ = "pupil_guardians"
    __table_args__ = (UniqueConstraint("pupil_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    pupil_id: Mapped[int] = mapped_column(ForeignKey("pupils.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    relation: Mapped[str] = mapped_column(String(16), default=GuardianRelation.GUARDIAN.value)
    #: Only a legal representative can give or withdraw consent.
    is_legal_representative: Mapped[bool] = mapped_column(default=True)

    pupil: Mapped[Pupil] = relationship(back_populates="guardian_links")
    user: Mapped[User] = relationship(back_populates="guardian_links")
