"""The inter-agency algorithm is data: the shipped file is valid, and a broken file is refused (and stops the
application from starting) with a message saying where."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

from app import create_app
from app.monitoring import algorithm
from app.monitoring.algorithm import AlgorithmError

SHIPPED = yaml.safe_load(algorithm.DEFAULT_FILE.read_text(encoding="utf-8"))


def test_the_shipped_algorithm_is_valid_and_cites_its_sources() -> None:
    chosen = algorithm.parse(SHIPPED)
    assert chosen.sources and all(source.url and source.url.startswith("https://") for source in chosen.sources)
    acute = {step.key: step for step in chosen.steps_for("acute")}
    # Acute risk: the parents, the administrator and 112 at once; the police within 24 hours where the law asks.
    assert acute["call_emergency"].due_minutes == 0 and "112" in acute["call_emergency"].action["en"]
    assert acute["inform_parents"].due_minutes <= 60 and acute["inform_administrator"].due_minutes <= 60
    assert acute["inform_police"].due_minutes == 24 * 60
    assert chosen.steps_for("high") and chosen.steps_for("moderate") == () and chosen.steps_for("low") == ()
    for steps in chosen.levels.values():
        for step in steps:
            assert set(step.action) == set(step.who) == {"kk", "ru", "en"}
            # Not yet confirmed by the regional education department: the page says so.
            assert step.confirmed is False


def _broken(change) -> dict:
    data = copy.deepcopy(SHIPPED)
    change(data)
    return data


@pytest.mark.parametrize(("change", "where"), [
    (lambda d: d.pop("sources"), "sources"),
    (lambda d: d["levels"].update(moderate=d["levels"]["high"]), "levels"),
    (lambda d: d["levels"]["acute"][0]["action"].pop("kk"), "levels.acute[0].action"),
    (lambda d: d["levels"]["acute"][1]["who"].update(ru="  "), "levels.acute[1].who.ru"),
    (lambda d: d["levels"]["high"][0].update(due_minutes=-5), "levels.high[0].due_minutes"),
    (lambda d: d["levels"]["high"][0].update(due_minutes="24h"), "levels.high[0].due_minutes"),
    (lambda d: d["levels"]["high"][0].update(key="Inform Parents"), "levels.high[0].key"),
    (lambda d: d["levels"]["high"][0].update(confirmed="yes"), "levels.high[0].confirmed"),
    (lambda d: d["levels"]["high"][0].update(extra=1), "levels.high[0]"),
    (lambda d: d["levels"]["high"].append(dict(d["levels"]["high"][0])), "levels.high"),
    (lambda d: d["sources"][0].update(url="http://example.org"), "sources[0].url"),
    (lambda d: d.update(version=0), "version"),
])
def test_a_broken_algorithm_is_refused_saying_where(change, where) -> None:
    with pytest.raises(AlgorithmError, match=re.escape(where)):
        algorithm.parse(_broken(change))


def _start(path: Path) -> None:
    create_app("testing", {"SQLALCHEMY_DATABASE_URI": "sqlite://", "MONITORING_ALGORITHM_FILE": str(path)})


def test_the_application_does_not_start_with_a_broken_algorithm_file(tmp_path: Path) -> None:
    broken = tmp_path / "algorithm.yaml"
    broken.write_text(yaml.safe_dump(_broken(lambda d: d["levels"]["acute"][0].pop("who"))), encoding="utf-8")
    with pytest.raises(AlgorithmError, match="who"):
        _start(broken)
    with pytest.raises(AlgorithmError, match="cannot be read"):
        _start(tmp_path / "none.yaml")


def test_a_region_s_own_valid_file_is_used(tmp_path: Path) -> None:
    own = tmp_path / "algorithm.yaml"
    own.write_text(yaml.safe_dump(_broken(lambda d: d["levels"].pop("high")), allow_unicode=True), encoding="utf-8")
    _start(own)
    assert algorithm.load(str(own)).steps_for("high") == ()
