"""The instrument catalogue pages and the FHIR Questionnaire download."""

from __future__ import annotations

import json

import pytest

from tests.factories import login

PAGES = ["/screening/instruments", "/screening/instruments/asq/1.0",
         "/screening/instruments/asq/1.0/questionnaire.json?lang=ru"]


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize(("who", "status"), [("psy1", 200), ("soc1", 200), ("admin", 200), ("t7a", 403),
                                             ("r1", 403), ("d1", 403), ("pupil1", 403)])
def test_role_matrix(client, world, path, who, status):
    login(client, getattr(world, who))
    assert client.get(path).status_code == status


def test_anonymous_is_sent_to_sign_in(client, world):
    response = client.get("/screening/instruments")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_catalogue_shows_licence_sources_and_translation_status(client, world):
    login(client, world.psy1)
    body = client.get("/screening/instruments", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "phq-a@1.1" in body and "Horowitz" in body
    assert "official text" in body and "adapted from the official translation" in body
    assert "draft translation, machine-assisted, not reviewed" in body


def test_detail_shows_items_in_the_chosen_language(client, world):
    login(client, world.psy1)
    body = client.get("/screening/instruments/gad-7/1.0?lang=kk").get_data(as_text=True)
    assert "draft_machine" not in body  # statuses are shown as translated words, not codes
    assert client.get("/screening/instruments/gad-7/1.0?lang=xx").status_code == 404
    assert client.get("/screening/instruments/nope/1.0").status_code == 404


def test_questionnaire_download_is_fhir_json(client, world):
    login(client, world.psy1)
    response = client.get("/screening/instruments/asq/1.0/questionnaire.json?lang=kk")
    assert response.mimetype == "application/fhir+json"
    assert "attachment" in response.headers["Content-Disposition"]
    resource = json.loads(response.get_data(as_text=True))
    assert resource["resourceType"] == "Questionnaire"
    questions = [item["linkId"] for item in resource["item"] if item["type"] != "display"]
    assert questions[:4] == ["q1", "q2", "q3", "q4"]
