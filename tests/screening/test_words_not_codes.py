"""No internal codes on a page (issue 8 item 13): alert rules, modes, severities and audit actions are words in
kk, ru and en; Kazakh and Russian dates share one full-year format; no double full stops on a page."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from flask_babel import force_locale

from app.core.audit import AuditAction
from app.core.audit_labels import AUDIT_ACTION_LABELS, action_label
from app.core.models import utcnow
from app.extensions import db
from app.screening import alerts, labels, services
from app.screening.alerts import SEVERITIES
from app.screening.instruments import load_registry
from app.screening.models import Alert, CampaignMode
from tests.factories import login, make_pupil
from tests.i18n.test_punctuation import double_stops
from tests.screening.workflow_support import ACUTE_ASQ, campaign, consent

SHIPPED = Path(__file__).resolve().parents[2] / "instruments"
LANGUAGES = ("kk", "ru", "en")
#: An alert rule id such as "asq.acute" or "who-5.item_low" (e-mail addresses are taken out first).
RULE_ID = re.compile(r"\b[a-z0-9-]{2,}\.[a-z_]{2,}\b")
#: An instrument reference such as "asq@1.1".
INSTRUMENT_REF = re.compile(r"\b[a-z0-9-]+@\d")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
#: A web address in a citation ("who.int/ru", "phqscreeners.com"), also taken out first.
WEB_ADDRESS = re.compile(r"\b(?:[\w-]+\.)+(?:int|org|com|net|kz|ru|gov|dk|edu)\b(?:/[\w./-]*)?")
#: Short dates: two-digit years, ISO dates.
TWO_DIGIT_YEAR = re.compile(r"\b\d{1,2}\.\d{1,2}\.\d{2}\b(?!\.\d)")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
FULL_YEAR = re.compile(r"\b\d{2}\.\d{2}\.\d{4}\b")


def _in_every_language(label) -> dict[str, str]:
    texts = {}
    for language in LANGUAGES:
        with force_locale(language):
            texts[language] = str(label)
    return texts


def _assert_translated(name: str, label) -> None:
    texts = _in_every_language(label)
    assert all(texts.values()), (name, texts)
    assert texts["kk"] != texts["en"] and texts["ru"] != texts["en"], (name, texts)  # translated


def _shipped_rules() -> set[str]:
    return {rule.id for instrument in load_registry(SHIPPED) for rule in instrument.alerts}


def test_every_rule_of_every_shipped_instrument_has_words_in_every_language(app_ctx):
    shipped = _shipped_rules()
    assert {"asq.acute", "phq-a.self_harm", "who-5.item_low", "k6.serious_distress"} <= shipped
    assert sorted(shipped - set(labels.RULE_LABELS)) == []  # a new rule needs its words
    assert sorted(set(labels.RULE_LABELS) - shipped) == []  # no words for a rule that does not exist
    with app_ctx.test_request_context():
        for rule, label in labels.RULE_LABELS.items():
            _assert_translated(rule, label)


def test_every_audit_action_has_words_in_every_language(app_ctx):
    assert sorted(set(AuditAction) - set(AUDIT_ACTION_LABELS)) == []  # a new action needs its words
    with app_ctx.test_request_context():
        for action, label in AUDIT_ACTION_LABELS.items():
            _assert_translated(action.value, label)
        assert len({str(label) for label in AUDIT_ACTION_LABELS.values()}) == len(AUDIT_ACTION_LABELS)
        with force_locale("en"):
            assert action_label("auth:login:success") == "Signed in"
            assert action_label("future:thing:done") == "future thing done"  # a code from a newer version


def test_severities_modes_and_languages_have_words_in_every_language(app_ctx):
    with app_ctx.test_request_context():
        for severity in SEVERITIES:
            _assert_translated(severity, labels.SEVERITY_LABELS[severity])
            for count in (0, 1, 2, 5):
                texts = {}
                for language in LANGUAGES:
                    with force_locale(language):
                        texts[language] = labels.severity_count(severity, count)
                assert len(set(texts.values())) == 3 and all(str(count) in t for t in texts.values()), texts
        for mode in CampaignMode:
            _assert_translated(mode.value, labels.MODE_LABELS[mode.value])
        for code in ("kk", "ru", "en"):
            _assert_translated(code, labels.LANGUAGE_LABELS[code])


class _Text(HTMLParser):
    """The text a reader sees (no scripts, styles or attributes)."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    return re.sub(r"\s+", " ", " ".join(parser.parts))


def problems(page: str, language: str) -> list[str]:
    """Codes, short or ISO dates and double full stops in a page's visible text."""
    text = visible_text(page)
    found = [f"rule id {m}" for m in RULE_ID.findall(WEB_ADDRESS.sub("", EMAIL.sub("", text)))]
    found += [f"instrument ref {m}" for m in INSTRUMENT_REF.findall(EMAIL.sub("", text))]
    found += [f"audit action {a.value}" for a in AuditAction if a.value in text]
    found += [f"double full stop {m!r}" for m in double_stops(text)]
    if language in ("kk", "ru"):  # the English words are the English page's own
        found += [f"code {m}" for m in re.findall(r"\b(?:acute|urgent|routine|online|paper|in_progress)\b", text)]
        found += [f"two-digit year {m}" for m in TWO_DIGIT_YEAR.findall(text)]
        found += [f"ISO date {m}" for m in ISO_DATE.findall(text)]
    return found


@pytest.fixture
def seeded(world):
    """Results with alerts of every severity, one upgraded, escalated, acknowledged and resolved; a campaign."""
    world.psy1.email = "psy1@school.example"
    db.session.commit()
    camp = campaign(world.psy1, world.s1, [world.c7a])
    consent(world.p1)
    asq = services.instrument_for("asq@1.1")
    for answers in ({"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 0}, ACUTE_ASQ):
        services.submit_result(actor=world.psy1, session=None, pupil=world.p1, instrument=asq, language="kk",
                               answers=answers)
    who5 = services.instrument_for("who-5@1.1")
    services.submit_result(actor=world.psy1, session=None, pupil=world.p1, instrument=who5, language="ru",
                           answers={item: 1 for item in who5.item_ids})
    first = db.session.query(Alert).order_by(Alert.id).first()
    first.details = replace(first.details, history=(("urgent", "asq.non_acute", utcnow().isoformat()),))
    db.session.commit()
    alerts.escalate_overdue(utcnow() + timedelta(days=10))
    alerts.acknowledge(actor=world.psy1, alert=first)
    alerts.resolve(actor=world.psy1, alert=first, note="Talked with the pupil.")
    services.submit_result(actor=world.psy1, session=None, pupil=make_pupil(world.c7a), instrument=asq,
                           language="ru", answers=ACUTE_ASQ)
    alerts.escalate_overdue(utcnow() + timedelta(days=10))
    return camp


@pytest.mark.parametrize("language", LANGUAGES)
def test_pages_show_words_not_codes(client, world, seeded, language):
    uuid = world.p1.uuid
    pages = {
        "psy1": ["/", "/screening/alerts", f"/screening/pupils/{uuid}/results", f"/pupils/{uuid}",
                 f"/pupils/{uuid}/access-log", "/screening/campaigns", f"/screening/campaigns/{seeded.uuid}",
                 f"/consent/pupils/{uuid}", "/pupils"],
        "a1": ["/", "/screening/escalations"],
        "admin": ["/admin/audit"],
    }
    found: dict[str, list[str]] = {}
    dated = False
    for name, paths in pages.items():
        user = getattr(world, name)
        user.preferred_language = language
        db.session.commit()
        with client.session_transaction() as flask_session:
            flask_session.clear()
        login(client, user)
        for path in paths:
            response = client.get(path)
            assert response.status_code == 200, (name, path)
            page = response.get_data(as_text=True)
            dated |= bool(FULL_YEAR.search(visible_text(page)))
            if bad := problems(page, language):
                found[f"{name} {path}"] = bad
    assert not found, found
    assert dated or language == "en"  # the pages do show dates, in the full-year format


def test_the_page_check_finds_what_it_looks_for():
    page = ("<main><p>asq@1.1 · asq.acute</p><p>urgent</p><p>screening:alert:raised</p><p>04.05.26</p>"
            "<p>до 31 мая 2026 г..</p><script>var x = 'a.b';</script></main>")
    assert len(problems(page, "ru")) == 6
