"""Local methods: role matrix, scoping, upload validation, use in campaigns and scoring, migration."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest
from flask import current_app
from sqlalchemy import func, select

from app.core.audit import AuditAction, AuditEntry
from app.core.models import utcnow
from app.extensions import db
from app.screening import local, services
from app.screening.campaigns import create_campaign
from app.screening.instruments import UnknownInstrumentError
from app.screening.models import Alert, LocalInstrument, ScreeningResult
from app.screening.results import export_fhir
from tests.factories import csrf_token, login, post
from tests.migration_support import MIGRATIONS, scratch_app
from tests.screening.workflow_support import campaign, consent, session_with_code

TEMPLATE = {name: (local.TEMPLATE_DIR / name).read_text(encoding="utf-8") for name in local.FILE_NAMES}
FIELDS = {"instrument.yaml": "instrument", "texts.kk.yaml": "texts_kk", "texts.ru.yaml": "texts_ru",
          "texts.en.yaml": "texts_en"}
ROLES = ["admin", "a1", "psy1", "soc1", "t7a", "r1", "pupil1", "d1", "norole"]
PAGES = ["/screening/local", "/screening/local/upload", "/screening/local/template.zip", "/screening/local/{loc}"]


def files(**changes: str) -> dict[str, bytes]:
    """The example method's four files, with ``changes`` (file name with _ for .) replacing some."""
    texts = dict(TEMPLATE)
    for key, text in changes.items():
        texts[key.replace("_yaml", ".yaml").replace("texts_", "texts.")] = text
    return {name: text.encode() for name, text in texts.items()}


def stored(school, **changes: str) -> LocalInstrument:
    return local.upload(actor=_uploader(school), school=school, archive=None, files=files(**changes))


def _uploader(school):
    from app.auth.models import RoleAssignment, User

    return db.session.execute(select(User).join(RoleAssignment).where(
        RoleAssignment.school_id == school.id, RoleAssignment.role == "psychologist")).scalars().first()


def _relogin(client, user):
    with client.session_transaction() as flask_session:
        flask_session.clear()
    login(client, user)


def _problems(**kwargs) -> list[local.Problem]:
    """The problems an upload is refused with, their messages rendered (in English)."""
    with pytest.raises(local.LocalUploadError) as caught:
        local.upload(**kwargs)
    with current_app.test_request_context(headers={"Accept-Language": "en"}):
        return [local.Problem(p.file, p.line, str(p.message)) for p in caught.value.problems]


@pytest.fixture
def client(client):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"  # the pages' English source strings
    return client


# --- permissions and scoping -------------------------------------------------------------------


@pytest.mark.parametrize("path", PAGES)
def test_role_matrix(client, world, path):
    method = stored(world.s1)
    url = path.format(loc=method.uuid)
    assert client.get(url).status_code == 302  # anonymous → sign-in
    for name in ROLES:
        _relogin(client, getattr(world, name))
        status = client.get(url).status_code
        assert status == (200 if name in ("admin", "psy1") else 403), (name, url, status)


def test_other_school_gets_404_and_cannot_use_it(client, world):
    method = stored(world.s1)
    login(client, world.psy3)
    assert client.get(f"/screening/local/{method.uuid}").status_code == 404
    assert method.instrument_id not in client.get("/screening/local").get_data(as_text=True)
    token = csrf_token(client, "/screening/local/upload")
    assert client.post(f"/screening/local/{method.uuid}/retire", data={"csrf_token": token}).status_code == 404
    assert db.session.get(LocalInstrument, method.id).retired_at is None
    assert method.ref not in client.get("/screening/campaigns/new").get_data(as_text=True)
    with pytest.raises(UnknownInstrumentError):
        services.instrument_for(method.ref, for_school=world.s2.id)
    with pytest.raises(UnknownInstrumentError):
        create_campaign(actor=world.psy3, school=world.s2, title="x", instrument_refs=[method.ref],
                        classes=[], opens_at=utcnow(), closes_at=utcnow(), mode="online")
    denied = db.session.execute(select(AuditEntry).where(AuditEntry.action == AuditAction.ACCESS_DENIED)).scalars()
    assert any(e.object_id == method.uuid for e in denied)


def test_admin_chooses_the_school(client, world):
    login(client, world.admin)
    page = client.get("/screening/local/upload").get_data(as_text=True)
    assert 'name="school"' in page
    data = {FIELDS[n]: (io.BytesIO(b), n) for n, b in files().items()}
    token = csrf_token(client, "/screening/local/upload")
    response = client.post("/screening/local/upload", data={**data, "school": str(world.s2.id), "csrf_token": token})
    assert response.status_code == 302
    assert db.session.execute(select(LocalInstrument)).scalar_one().school_id == world.s2.id


# --- a valid upload, used in a campaign, scored with alerts, exported ---------------------------


def test_upload_four_files_then_campaign_score_alert_and_fhir(client, world):
    login(client, world.psy1)
    assert 'name="school"' not in client.get("/screening/local/upload").get_data(as_text=True)
    data = {FIELDS[n]: (io.BytesIO(b), n) for n, b in files().items()}
    response = client.post("/screening/local/upload",
                           data={**data, "csrf_token": csrf_token(client, "/screening/local/upload")})
    assert response.status_code == 302
    method = db.session.execute(select(LocalInstrument)).scalar_one()
    assert (method.school_id, method.instrument_id, method.version) == (world.s1.id, "example-mood", "1.0")
    assert method.texts_kk_yaml == TEMPLATE["texts.kk.yaml"]  # stored as uploaded
    entry = db.session.execute(select(AuditEntry).where(
        AuditEntry.action == AuditAction.LOCAL_INSTRUMENT_UPLOAD)).scalar_one()
    assert (entry.actor_id, entry.object_id) == (world.psy1.id, method.uuid)

    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    for text in ("Мектепте өзімді қауіпсіз сезінбедім.", "Я чувствовал(а) себя в школе в опасности.",
                 "I felt unsafe at school.", "Local method, not validated"):
        assert text in detail
    assert "Local method, not validated" in client.get("/screening/local").get_data(as_text=True)

    consent(world.p1)
    form = client.get("/screening/campaigns/new").get_data(as_text=True)
    assert method.ref in form and "Local method, not validated" in form
    response = post(client, "/screening/campaigns/new", {
        "title": "Local", "instruments": [method.ref], "classes": [str(world.c7a.id)],
        "opens_on": "2026-01-01", "closes_on": "2030-01-01", "mode": "online"})
    assert response.status_code == 302

    camp = campaign(world.psy1, world.s1, [world.c7a], refs=(method.ref,))
    sess = session_with_code(camp, world.p1, ref=method.ref, language="kk")
    result = services.submit_result(actor=None, session=sess, answers={"q1": 2, "q2": 1, "q3": 2})
    assert result.instrument_ref == method.ref and result.text_status == local.LOCAL_TEXT_STATUS
    assert result.scores["scales"] == {"total": 5} and result.scores["bands"] == {"total": "talk_to_psychologist"}
    alert = db.session.execute(select(Alert)).scalar_one()
    assert (alert.severity, alert.rule_id, alert.instrument_ref) == ("urgent", "example-mood.unsafe", method.ref)
    inbox = client.get("/screening/alerts").get_data(as_text=True)
    assert "example-mood unsafe" in inbox and "example-mood.unsafe" not in inbox  # its own rule, as words

    fhir = export_fhir(actor=world.psy1, result=result)
    assert fhir["questionnaire"].endswith(f"/Questionnaire/local/{world.s1.id}/example-mood|1.0")
    assert fhir["extension"][0]["valueCode"] == local.LOCAL_TEXT_STATUS
    assert [i["linkId"] for i in fhir["item"]] == ["q1", "q2", "q3"]


def test_zip_upload_with_a_folder_and_paper_entry(client, world):
    consent(world.p3)
    login(client, world.psy3)
    template = client.get("/screening/local/template.zip")
    assert template.status_code == 200 and template.mimetype == "application/zip"
    response = client.post("/screening/local/upload", data={
        "archive": (io.BytesIO(template.data), "example.zip"),
        "csrf_token": csrf_token(client, "/screening/local/upload")})
    assert response.status_code == 302
    method = db.session.execute(select(LocalInstrument)).scalar_one()
    assert method.school_id == world.s2.id
    assert method.ref in client.get("/screening/paper").get_data(as_text=True)
    page = f"/screening/paper/{world.p3.uuid}?instrument={method.ref}&language=ru"
    response = post(client, page, {"item_q1": "0", "item_q2": "0", "item_q3": "2"})
    assert response.status_code == 302
    assert db.session.execute(select(Alert)).scalar_one().severity == "urgent"


def test_pupil_answers_a_local_method_online(client, world):
    method = stored(world.s1)
    camp = campaign(world.psy1, world.s1, [world.c7a], refs=(method.ref,))
    session_with_code(camp, world.p1, code="WXYZ-2345", ref=method.ref)
    assert post(client, "/s", {"code": "wxyz2345"}).status_code == 302
    assert "Қазақша" in client.get("/s/language").get_data(as_text=True)
    assert post(client, "/s/language", {"language": "kk"}).status_code == 302
    assert "Мен мұңайдым." in client.get("/s/q").get_data(as_text=True)
    for n, value in enumerate([0, 1, 2], start=1):
        response = post(client, f"/s/q?n={n}", {"answer": str(value), "nav": "next"}, form_page=f"/s/q?n={n}")
    assert response.headers["Location"].endswith("/s/done")
    assert "talk_to_psychologist" not in client.get("/s/done").get_data(as_text=True)  # never a score or band
    result = db.session.execute(select(ScreeningResult)).scalar_one()
    assert (result.instrument_ref, result.language, result.mode) == (method.ref, "kk", "online")
    assert db.session.execute(select(Alert)).scalar_one().rule_id == "example-mood.unsafe"


def test_whatever_the_files_claim_it_is_not_validated(app_ctx, world):
    claims = TEMPLATE["instrument.yaml"].replace("status: active", "status: draft").replace(
        "respondent: self ", "canonical_url: https://loinc.org/44249-1\ncodes: [{system: 'http://loinc.org', "
        "code: 44249-1}]\nrespondent: self ")
    texts = TEMPLATE["texts.ru.yaml"].replace(
        "status: draft_reviewed", "status: official\ncitation: A claim\nvalidated_in: [none_known]")
    instrument = local.instrument_of(stored(world.s1, instrument_yaml=claims, texts_ru_yaml=texts))
    assert {t.status for t in instrument.texts.values()} == {local.LOCAL_TEXT_STATUS}
    assert instrument.texts["ru"].citation is None and instrument.texts["ru"].validated_in == ()
    assert instrument.codes == () and "loinc" not in (instrument.canonical_url or "")
    assert instrument.status == "active" and instrument.id.startswith("local:")


def test_retire_hides_from_new_use_but_results_still_resolve(client, world):
    method = stored(world.s1)
    login(client, world.psy1)
    detail = f"/screening/local/{method.uuid}"
    assert post(client, detail + "/retire", form_page=detail).status_code == 302
    assert db.session.get(LocalInstrument, method.id).retired_at is not None
    assert db.session.execute(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == AuditAction.LOCAL_INSTRUMENT_RETIRE)).scalar_one() == 1
    assert method.ref not in client.get("/screening/campaigns/new").get_data(as_text=True)
    assert "Retired" in client.get(detail).get_data(as_text=True)
    with pytest.raises(UnknownInstrumentError):
        services.instrument_for(method.ref, for_school=world.s1.id)
    assert services.instrument_for(method.ref).ref == method.ref  # old sessions and results still read


TITLES = {"kk": "Көңіл-күй сауалнамасының үлгісі (ойдан шығарылған)",
          "ru": "Пример опросника настроения (вымышленный)", "en": "Example mood check (fictional)"}


@pytest.mark.parametrize("language", ["kk", "ru", "en"])
def test_choice_lists_and_pages_use_the_title_in_the_interface_language(client, world, language):
    method = stored(world.s1)
    consent(world.p1)
    world.psy1.preferred_language = language
    db.session.commit()
    login(client, world.psy1)
    label = f"{TITLES[language]} (example-mood 1.0)."
    others = [t for lang, t in TITLES.items() if lang != language]
    for url in ("/screening/campaigns/new", "/screening/paper", "/screening/local"):
        page = client.get(url).get_data(as_text=True)
        assert (label if url != "/screening/local" else TITLES[language]) in page, url
        assert not any(t in page for t in others), url
    detail = client.get(f"/screening/local/{method.uuid}").get_data(as_text=True)
    assert re.search(r'<h1 class="page-header__title">([^<]*)</h1>', detail).group(1) == TITLES[language]


def test_title_falls_back_to_a_language_the_method_has_a_text_in(client, world):
    no_kazakh = TEMPLATE["texts.kk.yaml"].replace("status: draft_reviewed", "status: not_available")
    method = stored(world.s1, texts_kk_yaml=no_kazakh)
    world.psy1.preferred_language = "kk"
    db.session.commit()
    login(client, world.psy1)
    page = client.get("/screening/campaigns/new").get_data(as_text=True)
    assert f"{TITLES['ru']} (example-mood 1.0)." in page and TITLES["kk"] not in page
    assert services.instrument_for(method.ref).texts["ru"].status == local.LOCAL_TEXT_STATUS
    # Nor is a pupil offered the language the method has no text in.
    camp = campaign(world.psy1, world.s1, [world.c7a], refs=(method.ref,))
    session_with_code(camp, world.p1, code="WXYZ-2345", ref=method.ref)
    with client.session_transaction() as flask_session:
        flask_session.clear()
    assert post(client, "/s", {"code": "wxyz2345"}).status_code == 302
    choices = re.findall(r'class="choice__label"[^>]*>([^<]*)<', client.get("/s/language").get_data(as_text=True))
    assert [c.split(" — ")[0] for c in choices] == ["Русский", "English"]


def test_texts_are_escaped(client, world):
    method = stored(world.s1, texts_en_yaml=TEMPLATE["texts.en.yaml"].replace(
        "q1: I felt sad.", "q1: '<script>alert(1)</script><b>sad</b>'"))
    login(client, world.psy1)
    consent(world.p1)
    for url in (f"/screening/local/{method.uuid}",
                f"/screening/paper/{world.p1.uuid}?instrument={method.ref}&language=en"):
        page = client.get(url).get_data(as_text=True)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;b&gt;sad" in page and "<b>sad" not in page


# --- refused uploads: a clear problem, nothing saved ----------------------------------------------

BOMB = "a: &a ['x','x']\nb: &b [*a,*a]\nc: &c [*b,*b]\nd: [*c,*c]\n"
DEEP = "schema: 1\nx: " + "[" * 40 + "]" * 40 + "\n"
CASES = {
    "schema": ({"instrument_yaml": TEMPLATE["instrument.yaml"].replace("respondent: self", "respondent: pupil")},
               "instrument.yaml", "respondent", 15),
    "missing kazakh item": ({"texts_kk_yaml": TEMPLATE["texts.kk.yaml"].replace("    q2: Ұйықтағаннан", "    #")},
                            "texts.kk.yaml", "missing text for item 'q2'", 14),
    "alert option value": ({"instrument_yaml": TEMPLATE["instrument.yaml"].replace("value: 2}\n    evaluate",
                                                                                  "value: 7}\n    evaluate")},
                           "instrument.yaml", "7 is not an option value of item 'q3'", 57),
    "yaml alias": ({"texts_ru_yaml": TEMPLATE["texts.ru.yaml"] + "x: &x 1\ny: *x\n"},
                   "texts.ru.yaml", "anchors and aliases", 22),
    "billion laughs": ({"texts_en_yaml": BOMB}, "texts.en.yaml", "anchors and aliases", 1),
    "too deep": ({"instrument_yaml": DEEP}, "instrument.yaml", "nested more than", 2),
    "oversize": ({"texts_en_yaml": TEMPLATE["texts.en.yaml"] + "#" * (300 * 1024)},
                 "texts.en.yaml", "larger than 256 KB", None),
    "not utf-8": ({}, "texts.ru.yaml", "not UTF-8", None),
    "syntax": ({"instrument_yaml": "schema: 1\nitems: [\n"}, "instrument.yaml", "not valid YAML", 3),
    "python tag": ({"instrument_yaml": "x: !!python/object/apply:os.system ['true']\n"},
                   "instrument.yaml", "not valid YAML", 1),
    "shipped id": ({name: TEMPLATE[name.replace("_yaml", ".yaml").replace("texts_", "texts.")].replace(
        "example-mood", "phq-a") for name in ("instrument_yaml", "texts_kk_yaml", "texts_ru_yaml", "texts_en_yaml")},
                   "instrument.yaml", "shipped with Senim", 12),
    "licence": ({"instrument_yaml": TEMPLATE["instrument.yaml"].replace("electronic_use: allowed",
                                                                       "electronic_use: needs_permission")},
                "instrument.yaml", "allows electronic use", 24),
    "language mix-up": ({"texts_ru_yaml": TEMPLATE["texts.kk.yaml"]}, "texts.ru.yaml", "expected 'ru'", None),
    "not a mapping": ({"texts_kk_yaml": "- just\n- a list\n"}, "texts.kk.yaml", "YAML mapping", 1),
    # Found by fuzzing: these crashed the shared validator (unhashable op, keys of mixed types).
    "op is a list": ({"instrument_yaml": TEMPLATE["instrument.yaml"].replace(
        "op: eq, value: 2", "op: [eq], value: 2")}, "instrument.yaml", "alerts[0].when.op: ['eq'] is not allowed", 57),
    "number as key": ({"texts_en_yaml": TEMPLATE["texts.en.yaml"].replace(
        "    q1: I felt", "    1: x\n    q1: I felt")}, "texts.en.yaml", "text for unknown item 1", 14),
    "mixed condition keys": ({"instrument_yaml": TEMPLATE["instrument.yaml"].replace(
        "when: {item: q3, op: eq, value: 2}", "when: {1: a, item: q3}")},
        "instrument.yaml", "unknown condition keys", 57),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_refused_upload_names_the_problem_and_saves_nothing(app_ctx, world, case):
    changes, file, words, line = CASES[case]
    upload = files(**changes)
    if case == "not utf-8":
        upload["texts.ru.yaml"] = TEMPLATE["texts.ru.yaml"].encode("cp1251")
    problems = _problems(actor=world.psy1, school=world.s1, archive=None, files=upload)
    assert any(p.file == file and words in p.message and p.line == line for p in problems), problems
    assert db.session.execute(select(func.count()).select_from(LocalInstrument)).scalar_one() == 0
    assert db.session.execute(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.action == AuditAction.LOCAL_INSTRUMENT_UPLOAD)).scalar_one() == 0


def test_refused_upload_page_lists_problems_per_file_and_line(client, world):
    login(client, world.psy1)
    bad = files(texts_kk_yaml=TEMPLATE["texts.kk.yaml"].replace("    q2: Ұйықтағаннан", "    #"))
    data = {FIELDS[n]: (io.BytesIO(b), n) for n, b in bad.items()}
    response = client.post("/screening/local/upload",
                           data={**data, "csrf_token": csrf_token(client, "/screening/local/upload")})
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "The method was not saved" in page
    assert "<h3>texts.kk.yaml</h3>" in page and "Line 14:" in page and "missing text for item &#39;q2&#39;" in page
    assert db.session.execute(select(func.count()).select_from(LocalInstrument)).scalar_one() == 0


def test_same_version_twice_is_refused_a_new_version_is_not(app_ctx, world):
    stored(world.s1)
    problems = _problems(actor=world.psy1, school=world.s1, archive=None, files=files())
    assert problems[0].line == 13 and "upload the corrected method as a new version (for example 1.1)" in \
        problems[0].message
    bumped = {k: v.replace('"1.0"', '"1.1"') for k, v in TEMPLATE.items()}
    assert stored(world.s1, **{k.replace(".", "_"): v for k, v in bumped.items()}).version == "1.1"
    assert stored(world.s2).school_id == world.s2.id  # the same id and version at another school is fine


@pytest.mark.parametrize("problem", ["both", "missing file", "bad zip", "zip too big", "zip entry too big",
                                     "duplicate"])
def test_refused_archives(app_ctx, world, problem):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in TEMPLATE.items():
            if problem == "missing file" and name == "texts.en.yaml":
                continue
            archive.writestr(f"m/{name}", text + ("#" * 300 * 1024 if problem == "zip entry too big" else ""))
            if problem == "duplicate":
                archive.writestr(f"other/{name}", text)
    data = {"both": buffer.getvalue(), "missing file": buffer.getvalue(), "bad zip": b"PK not really",
            "zip too big": b"0" * (local.MAX_ARCHIVE_BYTES + 1)}.get(problem, buffer.getvalue())
    problems = _problems(actor=world.psy1, school=world.s1, archive=data,
                         files=files() if problem == "both" else {})
    assert problems and all(p.message for p in problems)
    if problem == "missing file":
        assert problems == [local.Problem("texts.en.yaml", None, "this file is missing")]
    assert db.session.execute(select(func.count()).select_from(LocalInstrument)).scalar_one() == 0


# --- the example and the migration --------------------------------------------------------------


def test_template_zip_holds_a_valid_fictional_example(app_ctx, world):
    with zipfile.ZipFile(io.BytesIO(local.template_zip())) as archive:
        names = sorted(Path(n).name for n in archive.namelist())
        assert names == sorted(local.FILE_NAMES)
        assert "fictional" in archive.read("example-mood/instrument.yaml").decode()
    instrument = local.instrument_of(stored(world.s1))
    assert len(instrument.items) == 3 and set(instrument.texts) == {"kk", "ru", "en"}


def test_migration_upgrades_and_downgrades(tmp_path):
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import inspect

    migrations = MIGRATIONS
    with scratch_app(f"sqlite:///{tmp_path / 'm.db'}"):
        upgrade(directory=migrations)
        assert "local_instruments" in inspect(db.engine).get_table_names()
        downgrade(directory=migrations, revision="0002_screening_workflow")
        assert "local_instruments" not in inspect(db.engine).get_table_names()
        upgrade(directory=migrations)
        assert "local_instruments" in inspect(db.engine).get_table_names()
