"""Saving an answer: a fixed, small number of statements whatever the school size; lane chains verify.

bench/run_submit.py measures the same path under load (see bench/README.md); these tests keep its shape.
"""

from __future__ import annotations

from sqlalchemy import event, select

from app.core import audit
from app.core.audit import AuditAction, AuditEntry
from app.extensions import db
from app.screening import services
from app.screening.selfservice import OpenSession
from tests.factories import csrf_token, make_pupil, post
from tests.screening.workflow_support import campaign, consent, session_with_code

#: PostgreSQL: SELECT session + pupil, then one WITH statement (draft, audit head, entry) in autocommit mode.
#: Elsewhere: SELECT, UPDATE draft, lock the audit head, INSERT entry, UPDATE head, in a transaction.
EXPECTED = {"postgresql": ["SELECT", "WITH"], "sqlite": ["SELECT", "UPDATE", "UPDATE", "INSERT", "UPDATE"]}


def _statements_for_answer(client, n: int, value: int) -> list[str]:
    token = csrf_token(client, f"/s/q?n={n}")
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement.split()[0])

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.post(f"/s/q?n={n}", data={"answer": str(value), "csrf_token": token})
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 302 and "/s/q" in response.headers["Location"]
    return seen


def _start(client, world):
    camp = campaign(world.psy1, world.s1, [world.c7a])
    consent(world.p1)
    session_with_code(camp, world.p1, code="WXYZ-2345", language="ru")
    assert post(client, "/s", {"code": "wxyz2345"}).status_code == 302
    return camp


def test_saving_an_answer_costs_the_same_statements_whatever_the_school_size(client, world):
    camp = _start(client, world)
    _statements_for_answer(client, 1, 0)  # warm: instruments loaded, session started
    small = _statements_for_answer(client, 2, 0)
    for n in range(40):  # a bigger school: more pupils, sessions, drafts and audit entries
        pupil = make_pupil(world.c7a)
        other = session_with_code(camp, pupil, code=f"BIG{n:02d}-XYZ", language="ru")
        services.save_answer(session=OpenSession.of(other), item_id="q1", value=0)
    big = _statements_for_answer(client, 3, 0)
    assert big == small
    assert small == EXPECTED[db.engine.dialect.name]


def test_answer_saves_use_lane_chains_that_verify(client, world):
    _start(client, world)
    for n in (1, 2, 3):
        _statements_for_answer(client, n, 0)
    chains = set(db.session.execute(select(AuditEntry.chain_id).where(
        AuditEntry.action == str(AuditAction.SCREENING_ANSWER_SAVED))).scalars())
    assert len(chains) == 1
    (chain,) = chains
    assert (chain < 0 and chain == audit.chain_for(world.s1.id, lane=chain)) or -chain // 100 == world.s1.id
    assert audit.verify() == []


def test_chain_for_keeps_school_chains_and_spreads_lanes():
    assert audit.chain_for(None) == 0 and audit.chain_for(None, lane=5) == 0
    assert audit.chain_for(7) == 7
    assert audit.chain_for(7, lane=3) == -703
    assert audit.chain_for(7, lane=3 + audit.AUDIT_LANES) == -703
    lanes = {audit.chain_for(7, lane=n) for n in range(100)}
    assert len(lanes) == audit.AUDIT_LANES and all(-800 < c <= -700 for c in lanes)
