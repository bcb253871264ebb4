"""Seed one school with ten years of monitoring history, through the real services (encryption, audit, alerts).

    python -m bench.seed_monitoring --pupils 3000 --out plan.json      (run_monitoring.py calls it)

One school of ``--pupils`` pupils in classes of 25 (bench/seed.py's helpers), its staff (one psychologist per
1,000 pupils, at least one; a social pedagogue; a school administrator), and a history scaled to the school:

- a screening (PHQ-A, paper) per pupil and year for the years they have been at the school (about half get one a
  year), one in 60 with an acute ASQ that raises an alert; all but a handful of the alerts resolved;
- registry entries for one pupil in 20 with a few changes each, a third of them deregistered;
- one open case per ten pupils (300 at 3,000), spread over the psychologists, and half as many again closed
  ones, each with a team member, risk changes, notes, contacts with parents, a referral and its outcome, a safety
  plan with versions and reviews, support actions and monthly follow-ups;
- one heavily documented pupil: registered for ten years, two closed cases and an open one, monthly follow-ups,
  hundreds of notes, contacts, plan versions and reviews (``--heavy`` scales it).

Every record goes through the service that writes it in the app (so it is encrypted under the school's key and
audited as in production); only the timestamps of records that the services date "now" are moved back afterwards
with plain UPDATEs of their (plaintext) time columns, spread over the ten years. Alert dates stay at the seeding
time (they are inside the encrypted details). The seeding connection commits with ``synchronous_commit = off``:
only the seeding, not the measured server, skips waiting for the disk.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from datetime import date, timedelta
from typing import Any

import pyotp
from sqlalchemy import event, text

from app import create_app
from app.auth.models import RoleAssignment, User
from app.auth.passwords import hash_password
from app.auth.roles import Role
from app.auth.services import hasher
from app.consent.models import Consent, ConsentMethod, ConsentScope
from app.consent.services import school_year_end, today_local
from app.core.models import District, Pupil, Region, School
from app.extensions import db
from app.monitoring import followups, plans, referrals, registry, services
from app.monitoring.models import CaseOrigin, CaseStatus, RegistryDetails, RiskLevel
from app.monitoring.plan_models import ContactWay, PlanKind
from app.monitoring.referral_models import ReferralDestination, ReferralStatus
from app.screening import alerts as alert_services
from app.screening.services import instrument_for, submit_result
from bench.seed import _classes, _pupils

PASSWORD = "bench-Password-1"  # noqa: S105  (a throw-away database of the benchmark)
YEARS = 10
PHQ = "phq-a@1.0"
ASQ = "asq@1.0"
ACUTE_ASQ = {"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 1}
PHRASES = ("Беседа с учеником о том, как прошла неделя", "Ученик рассказал о ссоре с другом",
           "Обсудили план на каникулы", "Мама сообщила, что сон наладился", "Сынып жетекшісімен сөйлестім",
           "Оқушы көңіл күйінің жақсарғанын айтты")


class Seeder:
    """The school, its staff and the services' calls that build the history."""

    def __init__(self, *, pupils: int, heavy: int, seed_value: int) -> None:
        self.rng = random.Random(seed_value)
        self.size, self.heavy_factor = pupils, heavy
        self.today = today_local()
        self.calls = 0

    # --- the school ----------------------------------------------------------------------------------------------

    def staff(self, username: str, role: Role) -> User:
        user = User(username=username, full_name=f"Bench {username}", preferred_language="ru",
                    password_hash=hash_password(hasher(), PASSWORD))
        user.assignments.append(RoleAssignment(role=role.value, school_id=self.school.id))
        if user.requires_mfa:
            user.totp_secret = pyotp.random_base32()
        db.session.add(user)
        return user

    def school_and_staff(self) -> None:
        region = Region(name_kk="Bench", name_ru="Bench")
        district = District(region=region, name_kk="Bench", name_ru="Bench")
        self.school = School(district=district, kundelik_id="bench-monitoring", default_language="ru",
                             name_kk="Bench school", name_ru="Bench school")
        db.session.add_all([region, district, self.school])
        db.session.flush()
        self.psychologists = [self.staff(f"bench-psy{n}", Role.PSYCHOLOGIST)
                              for n in range(1, max(1, self.size // 1000) + 1)]
        self.social = self.staff("bench-social", Role.SOCIAL_PEDAGOGUE)
        self.director = self.staff("bench-director", Role.DIRECTOR)
        classes = _classes(self.school, self.size)
        self.pupils: list[Pupil] = _pupils(self.rng, self.school, classes, self.size)
        until = school_year_end(self.today)
        db.session.add_all(Consent(pupil_id=p.id, school_id=self.school.id, method=ConsentMethod.PAPER.value,
                                   scope=ConsentScope.PSYCHODIAGNOSTICS.value, valid_until=until,
                                   recorded_by_id=self.psychologists[0].id) for p in self.pupils)
        db.session.commit()

    # --- screenings and alerts -----------------------------------------------------------------------------------

    def screenings(self, pupil: Pupil, years: int) -> None:
        phq = instrument_for(PHQ)
        asq = instrument_for(ASQ)
        items = [i for i in phq.items if i.enable_when is None]
        for _year in range(years):
            if self.rng.random() < 0.5:
                continue
            actor = self.rng.choice(self.psychologists)
            if self.rng.random() < 1 / 60:
                submit_result(actor=actor, session=None, answers=ACUTE_ASQ, pupil=pupil, instrument=asq,
                              language="ru")
            else:
                answers = {i.id: min(i.values) if i.id == "self_harm" else self.rng.choice(sorted(i.values)[:2])
                           for i in items}
                submit_result(actor=actor, session=None, answers=answers, pupil=pupil, instrument=phq,
                              language="ru")
            self.calls += 1

    def resolve_alerts(self, keep_open: int) -> None:
        """Resolve every open alert but ``keep_open`` (a school's inbox is nearly empty at any time)."""
        actor = self.psychologists[0]
        found = alert_services.open_alerts(actor=actor)
        for alert in found[keep_open:]:
            alert_services.acknowledge(actor=actor, alert=alert)
            alert_services.resolve(actor=actor, alert=alert, note="Беседа проведена, риск не подтвердился")
            self.calls += 2

    # --- registry -------------------------------------------------------------------------------------------------

    def register(self, pupil: Pupil, *, changes: int, deregister: bool, started_on: date) -> None:
        kind = self.rng.choice(["school", "school", "police", "commission"])
        details = RegistryDetails(kind=kind, basis_document="Протокол совета профилактики", basis_number="17",
                                  basis_date=started_on, reason_category=self.rng.choice(
                                      ["truancy", "offence", "family_situation", "self_harm"]),
                                  reason_text="Пропуски уроков без уважительной причины")
        entry = registry.add_entry(actor=self.social, pupil=pupil, details=details, started_on=started_on,
                                   next_review_on=started_on + timedelta(days=90))
        for n in range(changes):
            entry = registry.update_entry(actor=self.social, entry=entry, version=entry.version, details=details,
                                          started_on=started_on,
                                          next_review_on=started_on + timedelta(days=90 * (n + 2)))
        if deregister:
            registry.deregister(actor=self.social, entry=entry, version=entry.version,
                                ended_on=min(self.today, started_on + timedelta(days=365)),
                                reason="Поведение улучшилось, решение совета профилактики")
        self.calls += 1 + changes + deregister

    # --- cases ----------------------------------------------------------------------------------------------------

    def case(self, pupil: Pupil, owner: User, *, notes: int, contacts: int, followups_done: int, plan_saves: int,
             reviews: int, referrals_made: int, close: bool) -> None:
        rng = self.rng
        case = services.open_case(actor=owner, pupil=pupil, origin=CaseOrigin.MANUAL,
                                  risk=rng.choice([RiskLevel.LOW, RiskLevel.MODERATE, RiskLevel.HIGH]),
                                  reason="Обращение классного руководителя",
                                  next_review_on=self.today + timedelta(days=rng.randint(-20, 60)))
        services.add_member(actor=owner, case=case, version=case.version, user_id=self.social.id)
        services.change_risk(actor=owner, case=case, version=case.version, risk=RiskLevel.ACUTE
                             if case.risk_level != RiskLevel.ACUTE.value else RiskLevel.HIGH,
                             reason="Новые сведения от родителей")
        start = self.today - timedelta(days=30 * max(followups_done, 1) + rng.randint(0, 20))
        for n in range(notes):
            services.add_note(actor=owner, case=case, body=f"{rng.choice(PHRASES)} ({n + 1})")
        for n in range(contacts):
            followups.record_parent_contact(actor=owner, case=case, contacted_on=start + timedelta(days=20 * n),
                                            way=rng.choice(list(ContactWay)), summary=rng.choice(PHRASES))
        for n in range(referrals_made):
            sent = start + timedelta(days=15 + 40 * n)
            made = referrals.create_referral(actor=owner, case=case, destination=rng.choice(list(ReferralDestination)),
                                             reason="Консультация специалиста", sent_on=sent,
                                             deadline=sent + timedelta(days=14))
            referrals.update_referral(actor=owner, referral=made, version=made.version,
                                      status=ReferralStatus.ACCEPTED, text=None, on=sent + timedelta(days=3))
            referrals.update_referral(actor=owner, referral=made, version=made.version,
                                      status=ReferralStatus.OUTCOME, text="Консультация проведена",
                                      on=sent + timedelta(days=12))
        plan = None
        for n in range(plan_saves):
            plan = plans.save_safety_plan(actor=owner, case=case, version=plan.version if plan else None,
                                          content={"warning_signs": f"Замыкается в себе ({n + 1})",
                                                   "coping": "Музыка, прогулка с собакой",
                                                   "people": "Мама, старшая сестра"},
                                          review_on=self.today + timedelta(days=30))
        for n in range(reviews if plan is not None else 0):
            plans.review_plan(actor=owner, case=case, kind=PlanKind.SAFETY, note=f"План актуален ({n + 1})",
                              next_review_on=self.today + timedelta(days=30))
        plans.add_action(actor=owner, case=case, action="Еженедельная беседа", responsible="Психолог",
                         due_on=start + timedelta(days=30))
        for n in range(followups_done):
            done_on = min(self.today, start + timedelta(days=30 * n))
            followups.record_followup(actor=owner, pupil=pupil, case=case, done_on=done_on,
                                      done="Плановая встреча", outcome="Состояние стабильное", next_on=None)
        calls = 4 + notes + contacts + 3 * referrals_made + plan_saves + reviews + 1 + followups_done
        if close:
            for status in (CaseStatus.ACTIVE, CaseStatus.REVIEW, CaseStatus.CLOSED):
                services.change_status(actor=owner, case=case, version=case.version, status=status,
                                       reason="Плановое решение")
            calls += 3
        self.calls += calls

    def ordinary_case(self, pupil: Pupil, owner: User, *, close: bool) -> None:
        rng = self.rng
        self.case(pupil, owner, notes=rng.randint(3, 14), contacts=rng.randint(1, 5),
                  followups_done=rng.randint(1, 12), plan_saves=rng.randint(0, 2), reviews=rng.randint(0, 3),
                  referrals_made=rng.randint(0, 2), close=close)

    def heavy_pupil(self, pupil: Pupil, owner: User) -> None:
        """Ten years on the registry, two closed cases before the open one, a record at every visit."""
        k = self.heavy_factor
        self.screenings(pupil, YEARS)
        self.register(pupil, changes=4 * k, deregister=True, started_on=self.today - timedelta(days=365 * YEARS))
        self.register(pupil, changes=6 * k, deregister=False, started_on=self.today - timedelta(days=365 * 4))
        for _ in range(2):
            self.case(pupil, owner, notes=20 * k, contacts=8 * k, followups_done=12 * k, plan_saves=3 * k,
                      reviews=4 * k, referrals_made=2, close=True)
        self.case(pupil, owner, notes=60 * k, contacts=20 * k, followups_done=36 * k, plan_saves=6 * k,
                  reviews=10 * k, referrals_made=3, close=False)

    # --- timestamps -----------------------------------------------------------------------------------------------

    def spread_over_the_years(self) -> None:
        """Move the "now" timestamps back, each row by its own amount over the ten years (deterministic by id)."""
        days = 365 * YEARS
        for table, column in (("case_notes", "at"), ("case_events", "at"), ("plan_reviews", "at"),
                              ("safety_plan_versions", "saved_at"), ("registry_events", "at"),
                              ("screening_results", "completed_at")):
            db.session.execute(text(
                f"UPDATE {table} SET {column} = {column} - make_interval(days => (id * 7919) % {days})"))  # noqa: S608 (fixed names)
        db.session.commit()

    # --- all of it ------------------------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        started = time.monotonic()
        self.school_and_staff()
        heavy, rest = self.pupils[0], self.pupils[1:]
        self.heavy_pupil(heavy, self.psychologists[0])
        for pupil in rest:
            grade = pupil.school_class.grade if pupil.school_class else 5
            self.screenings(pupil, min(YEARS, grade - 1))
        self.resolve_alerts(keep_open=max(1, self.size // 500))
        registered = self.rng.sample(rest, len(rest) // 20)
        for n, pupil in enumerate(registered):
            self.register(pupil, changes=self.rng.randint(1, 4), deregister=n % 3 == 0,
                          started_on=self.today - timedelta(days=self.rng.randint(30, 365 * 3)))
        open_count, closed_count = self.size // 10, self.size // 20
        chosen = self.rng.sample(rest, open_count - 1 + closed_count)
        for n, pupil in enumerate(chosen):
            owner = self.psychologists[n % len(self.psychologists)]
            self.ordinary_case(pupil, owner, close=n >= open_count - 1)
        self.spread_over_the_years()
        return {"pupils": len(self.pupils), "open_cases": open_count, "closed_cases": closed_count,
                "service_calls": self.calls, "seconds": round(time.monotonic() - started, 1),
                "heavy_pupil": heavy.uuid, "password": PASSWORD,
                "psychologists": [{"username": u.username, "totp_secret": u.totp_secret} for u in self.psychologists],
                "counts": _counts()}


def _counts() -> dict[str, int]:
    tables = ("screening_results", "screening_alerts", "registry_entries", "registry_events", "monitoring_cases",
              "case_events", "case_notes", "parent_contacts", "case_referrals", "safety_plan_versions", "plan_reviews",
              "followups", "audit_entries")
    return {t: db.session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in tables}  # noqa: S608


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pupils", type=int, required=True)
    parser.add_argument("--heavy", type=int, default=3, help="scale of the heavily documented pupil's history")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    app = create_app()
    with app.app_context():
        @event.listens_for(db.engine, "connect")
        def _no_wait(dbapi_connection: Any, _record: Any) -> None:
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit TO off")

        db.engine.dispose()  # connections opened from now on get the setting
        with app.test_request_context():  # the services word a few texts in the interface language
            plan = Seeder(pupils=args.pupils, heavy=args.heavy, seed_value=args.seed).run()
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(plan, handle)


if __name__ == "__main__":
    main()
