"""Who viewed this record (issue 10 item 10): the school administrator reads the per-pupil access log of the
school's pupils, and case and registry reads appear in it in words."""

from __future__ import annotations

import re

from tests.monitoring.support import open_case, register
from tests.security.helpers import signed_in

_ACTIONS = re.compile(r"<tr>\s*<td>[^<]*</td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>")


def test_director_reads_the_log_with_case_and_registry_reads_in_words(app, world) -> None:
    case = open_case(world)
    register(world)
    psychologist = signed_in(app, world.psy1)
    assert psychologist.get(f"/monitoring/cases/{case.uuid}").status_code == 200
    assert psychologist.get(f"/monitoring/pupils/{world.p1.uuid}/registry").status_code == 200
    director = signed_in(app, world.a1)
    registry_page = director.get(f"/monitoring/pupils/{world.p1.uuid}/registry").get_data(as_text=True)
    assert f"/pupils/{world.p1.uuid}/access-log" in registry_page  # the director's way to the log
    response = director.get(f"/pupils/{world.p1.uuid}/access-log")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    actions = {action.strip() for _who, action in _ACTIONS.findall(page)}
    assert {"Case file opened", "Registry entries opened", "Case opened"} <= actions
    assert "case:read" not in page and "registry:read" not in page  # words, not codes
    assert "Back to the record" not in page  # the director has no pupil card to go back to


def test_director_of_another_school_gets_404(app, world) -> None:
    director = signed_in(app, world.a1)
    assert director.get(f"/pupils/{world.p3.uuid}/access-log").status_code == 404
