"""Seed a benchmark database: one school, N pupils with valid consent and open screening sessions.

Run by run_submit.py against a fresh, migrated database (the production configuration with generated
keys); prints nothing but writes the one-time codes of a sample of sessions to ``--out`` as JSON.
Uses the real services for the campaign and the codes; consent rows are added directly (one audit
entry for the batch) so that seeding 3,000 pupils does not take 3,000 commits.
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import date, timedelta

from app import create_app
from app.auth.models import RoleAssignment, User
from app.auth.roles import Role
from app.consent.models import Consent, ConsentMethod, ConsentScope
from app.consent.services import school_year_end, today_local
from app.core import audit
from app.core.models import District, Pupil, Region, School, SchoolClass, utcnow
from app.extensions import db
from app.screening import campaigns
from app.screening.services import instrument_for

#: The campaign's instruments: each pupil gets one session (one code) per instrument.
INSTRUMENTS = ["phq-a@1.0", "gad-7@1.0"]
PUPILS_PER_CLASS = 25
GRADES = (5, 6, 7, 8, 9, 10, 11)
LETTERS = "АБВГДЕЖЗИКЛМНОПРСТУФХЦЧШЭЮЯ"


def _classes(school: School, pupils: int) -> list[SchoolClass]:
    count = max(1, -(-pupils // PUPILS_PER_CLASS))
    classes = [SchoolClass(school_id=school.id, grade=GRADES[n % len(GRADES)], letter=LETTERS[n // len(GRADES)],
                           school_year=2026, language="kk" if n % 2 else "ru") for n in range(count)]
    db.session.add_all(classes)
    db.session.flush()
    return classes


def _pupils(rng: random.Random, school: School, classes: list[SchoolClass], count: int) -> list[Pupil]:
    today = date.today()
    pupils = []
    for n in range(count):
        school_class = classes[n // PUPILS_PER_CLASS]
        age = school_class.grade + 6
        pupil = Pupil(school_id=school.id, class_id=school_class.id, sex=rng.choice(("male", "female")),
                      birth_date=today - timedelta(days=365 * age + rng.randint(0, 300)))
        pupil.set_identity(last_name=f"Bench{n:05d}", first_name=rng.choice(("Aruzhan", "Dana", "Timur", "Erlan")),
                           patronymic=None, iin=None)
        pupils.append(pupil)
    db.session.add_all(pupils)
    db.session.flush()
    return pupils


def seed(*, pupils: int, sample: int, seed_value: int) -> dict:
    """Create the school and its sessions; return the sampled codes and each instrument's cycle."""
    rng = random.Random(seed_value)
    region = Region(name_kk="Bench", name_ru="Bench")
    district = District(region=region, name_kk="Bench", name_ru="Bench")
    school = School(district=district, kundelik_id="bench-school", default_language="ru",
                    name_kk="Bench school", name_ru="Bench school")
    db.session.add_all([region, district, school])
    db.session.flush()
    psychologist = User(username="bench-psychologist", full_name="Bench", password_hash="!unusable")  # noqa: S106  (no hash: cannot sign in)
    psychologist.assignments.append(RoleAssignment(role=Role.PSYCHOLOGIST.value, school_id=school.id))
    db.session.add(psychologist)
    classes = _classes(school, pupils)
    roster = _pupils(rng, school, classes, pupils)
    valid_until = school_year_end(today_local())
    db.session.add_all(Consent(pupil_id=p.id, school_id=school.id, method=ConsentMethod.PAPER.value,
                               scope=ConsentScope.PSYCHODIAGNOSTICS.value, valid_until=valid_until,
                               recorded_by_id=psychologist.id) for p in roster)
    db.session.flush()
    audit.record(psychologist, audit.AuditAction.CONSENT_GIVEN, school_id=school.id,
                 details={"bench": True, "count": len(roster)})
    db.session.commit()
    now = utcnow()
    campaign = campaigns.create_campaign(actor=psychologist, school=school, title="Bench", instrument_refs=INSTRUMENTS,
                                         classes=classes, opens_at=now - timedelta(days=1),
                                         closes_at=now + timedelta(days=7), mode="online")
    issued = campaigns.issue_codes(actor=psychologist, campaign=campaign, pupils=roster).codes
    chosen = rng.sample(issued, min(sample, len(issued)))
    return {
        "pupils": len(roster),
        "sessions": len(issued),
        "codes": [{"code": code, "instrument": ref} for _pupil, ref, code in chosen],
        "instruments": {ref: _plan(ref) for ref in INSTRUMENTS},
    }


def _plan(ref: str) -> dict:
    """Items a simulated pupil re-answers: every unconditional item but the last (so it never completes)."""
    instrument = instrument_for(ref)
    items = [i for i in instrument.items if i.enable_when is None]
    return {"items": [{"id": i.id, "values": sorted(i.values)} for i in items[:-1]]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pupils", type=int, required=True)
    parser.add_argument("--sample", type=int, default=64)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        plan = seed(pupils=args.pupils, sample=args.sample, seed_value=args.seed)
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(plan, handle)


if __name__ == "__main__":
    main()
