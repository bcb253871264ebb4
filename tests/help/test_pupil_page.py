"""The pupil's own page leads to the open questionnaires, "ask for help" and the help directory."""

from __future__ import annotations

import re

import pytest

from tests.factories import login, post


def test_the_pupils_page_leads_to_help(client, world):
    login(client, world.pupil1)
    page = client.get("/me").get_data(as_text=True)
    assert 'href="/help/ask"' in page and 'href="/help"' in page
    assert "tel:150" in page and "tel:111" in page and "tel:112" in page
    assert 'href="/street-law/"' in page  # Street Law (app/streetlaw), also in the footer


def test_the_pupils_page_lists_waiting_questionnaires(client, world):
    from tests.screening.workflow_support import campaign, consent, session_with_code

    camp = campaign(world.psy1, world.s1, [world.c7a])
    consent(world.p1)
    session_with_code(camp, world.p1, code="WXYZ-2345")
    login(client, world.pupil1)
    page = client.get("/me").get_data(as_text=True)
    assert 'href="/s"' in page


def test_the_pupils_page_speaks_to_a_child_in_kazakh_and_russian(client, world):
    login(client, world.pupil1)
    post(client, "/language", {"language": "ru", "next": "/me"}, form_page="/me")
    page = client.get("/me").get_data(as_text=True)
    assert "Напиши школьному психологу" in page


FORMAL = {
    "ru": re.compile(r"\b(вы|вас|вам|ваш\w*|здравствуйте|можете|хотите)\b", re.IGNORECASE),
    "kk": re.compile(r"\b(сіз\w*|сәлеметсіз\w*|аласыз|өзіңіз)\b", re.IGNORECASE),
}


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_the_pupils_own_page_never_uses_the_formal_you(client, world, language):
    """Issue 11 item 7: the pupil's page speaks to a child ("сен"/"ты"), as the questionnaires do; the site-wide
    footer's help lines speak to anyone without a formal "you"."""
    login(client, world.pupil1)
    post(client, "/language", {"language": language, "next": "/me"}, form_page="/me")
    page = client.get("/me").get_data(as_text=True)
    words = re.sub(r"<[^>]+>", " ", page)
    found = [words[max(0, m.start() - 60) : m.end() + 60] for m in FORMAL[language].finditer(words)]
    assert not found, found
