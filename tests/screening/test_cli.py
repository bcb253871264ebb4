"""The ``instruments`` click group: JSON output, exit codes, one-line errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner, Result

from app.screening.cli import instruments
from app.screening.instruments import DEFAULT_ROOT


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(instruments, list(args), env=env)


def answers_file(tmp_path: Path, content: str) -> str:
    path = tmp_path / "answers.json"
    path.write_text(content, encoding="utf-8")
    return str(path)


def test_group_is_plain_click() -> None:
    assert isinstance(instruments, click.Group) and instruments.name == "instruments"
    assert set(instruments.commands) >= {"score", "questionnaire", "validate"}


def test_score_prints_json(tmp_path: Path) -> None:
    path = answers_file(tmp_path, json.dumps({"q1": 1, "q2": 0, "q3": 0, "q4": 0, "q5": 0}))
    result = run("score", "asq", path)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["instrument"] == "asq" and out["version"] == "1.1"
    assert out["scales"] == {} and out["bands"] == {"result": "non_acute_positive"}
    assert [a["rule"] for a in out["alerts"]] == ["asq.non_acute"]
    assert out["alerts"][0]["severity"] == "urgent"


def test_score_with_age_and_version(tmp_path: Path) -> None:
    answers = {k: 0 for k in ("down", "interest", "sleep", "appetite", "tired", "failure", "concentration",
                              "psychomotor", "self_harm")} | {"down": 3, "interest": 3, "sleep": 3, "tired": 3}
    path = answers_file(tmp_path, json.dumps(answers))
    young = json.loads(run("score", "phq-a", path, "--age", "13", "--version", "1.0").stdout)
    older = json.loads(run("score", "phq-a", path, "--age", "16").stdout)
    assert young["scales"] == {"total": 12} == older["scales"]
    assert (young["bands"]["total_screen"], older["bands"]["total_screen"]) == ("negative", "positive")


def test_unanswered_items_may_be_absent_or_null(tmp_path: Path) -> None:
    result = run("score", "phq-a", answers_file(tmp_path, '{"down": 1, "self_harm": null}'))
    assert result.exit_code == 0
    out = json.loads(result.stdout)
    assert out["scales"] == {"total": None}
    assert [a["rule"] for a in out["alerts"]] == ["phq-a.self_harm_missing"]


@pytest.mark.parametrize(("args", "content", "message"), [
    (["score", "nope"], "{}", "Error: unknown instrument 'nope'"),
    (["score", "asq"], '{"q6": 1}', "Error: unknown item 'q6' for asq@1.1"),
    (["score", "asq"], '{"q1": 2}', "Error: item 'q1': 2 is not an option value (allowed: 0, 1, 9)"),
    (["score", "asq"], '{"q1": "yes"}', "Error: item 'q1': 'yes' is not an answer code of this item (codes: 0, 1, 9)"),
    (["score", "asq"], '{"q1": true}', "Error: item 'q1': expected an integer option value, got True"),
    (["score", "asq", "--age", "twelve"], "{}", "Error: Invalid value for '--age'"),
    (["score", "asq", "--colour", "red"], "{}", "Error: No such option '--colour'"),
    (["score", "asq"], "{not json", "is not valid JSON"),
    (["score", "asq"], "[1, 2]", "must hold a JSON object"),
    (["score", "asq", "--version", "7.0"], "{}", "Error: instrument 'asq' has no version '7.0'"),
])
def test_score_bad_input(tmp_path: Path, args: list[str], content: str, message: str) -> None:
    path = answers_file(tmp_path, content)
    result = run(*args[:2], path, *args[2:])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert message in result.stderr


@pytest.mark.parametrize("instrument_id", ["asq", "phq-a", "gad-7", "who-5"])
def test_score_takes_the_codes_its_own_questionnaire_exports(tmp_path: Path, instrument_id: str) -> None:
    """Answer every item with the first answerOption code of `flask instruments questionnaire`."""
    resource = json.loads(run("questionnaire", instrument_id).stdout)
    coded = {item["linkId"]: item["answerOption"][-1]["valueCoding"]["code"] for item in resource["item"]
             if item.get("answerOption")}
    assert all(isinstance(code, str) for code in coded.values())
    from_codes = run("score", instrument_id, answers_file(tmp_path, json.dumps(coded)))
    assert from_codes.exit_code == 0, from_codes.stderr
    as_numbers = {k: int(v) if v.isdigit() else v for k, v in coded.items()}
    if all(isinstance(v, int) for v in as_numbers.values()):
        from_numbers = run("score", instrument_id, answers_file(tmp_path, json.dumps(as_numbers)))
        assert json.loads(from_codes.stdout) == json.loads(from_numbers.stdout)


@pytest.mark.parametrize("args", [["nope"], ["score"], ["score", "asq"], ["questionnaire", "--lang"]])
def test_usage_errors_are_one_line_with_exit_2(args: list[str]) -> None:
    result = run(*args)
    assert result.exit_code == 2
    assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert result.stderr.startswith("Error:")


def test_score_missing_file(tmp_path: Path) -> None:
    result = run("score", "asq", str(tmp_path / "absent.json"))
    assert result.exit_code == 2 and "Error: cannot read" in result.stderr


@pytest.mark.parametrize("lang", ["en", "ru", "kk"])
def test_questionnaire(lang: str) -> None:
    result = run("questionnaire", "phq-a", "--lang", lang)
    assert result.exit_code == 0, result.output
    resource = json.loads(result.stdout)
    assert resource["resourceType"] == "Questionnaire" and resource["language"] == lang


def test_questionnaire_bad_input() -> None:
    for args, message in ((["questionnaire", "phq-a", "--lang", "de"], "no texts in 'de'"),
                          (["questionnaire", "nope"], "unknown instrument 'nope'")):
        result = run(*args)
        assert result.exit_code == 2 and message in result.stderr


def test_validate_ok() -> None:
    root = run("validate", str(DEFAULT_ROOT))
    assert root.exit_code == 0 and "OK: 16 instrument version(s) valid" in root.stdout
    one = run("validate", str(DEFAULT_ROOT / "who-5" / "1.0"))
    assert one.exit_code == 0 and "OK: 1" in one.stdout


def test_validate_reports_errors(tmp_path: Path) -> None:
    folder = tmp_path / "who-5" / "1.0"
    shutil.copytree(DEFAULT_ROOT / "who-5" / "1.0", folder)
    data = yaml.safe_load((folder / "texts.kk.yaml").read_text(encoding="utf-8"))
    del data["strings"]["items"]["calm"]
    (folder / "texts.kk.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = run("validate", str(folder))
    assert result.exit_code == 2
    assert result.stderr.strip() == "who-5/1.0: texts.kk.yaml: missing text for item 'calm'"
    # an <id>/ folder is neither a version folder nor a root (roots hold <id>/<version>/)
    assert run("validate", str(tmp_path / "who-5")).exit_code == 2


def test_validate_empty_folder(tmp_path: Path) -> None:
    result = run("validate", str(tmp_path))
    assert result.exit_code == 2 and "holds no instrument.yaml" in result.stderr


def test_instruments_dir_from_environment(tmp_path: Path) -> None:
    shutil.copytree(DEFAULT_ROOT / "k6", tmp_path / "k6")
    path = answers_file(tmp_path, "{}")
    assert run("score", "k6", path, env={"SENIM_INSTRUMENTS_DIR": str(tmp_path)}).exit_code == 0
    result = run("score", "asq", path, env={"SENIM_INSTRUMENTS_DIR": str(tmp_path)})
    assert result.exit_code == 2 and "unknown instrument 'asq' (known: k6)" in result.stderr


def test_manifest_command_matches_checked_in_manifest() -> None:
    result = run("manifest")
    assert result.exit_code == 0
    checked_in = (DEFAULT_ROOT / "MANIFEST.sha256").read_text(encoding="utf-8").splitlines(keepends=True)
    assert result.stdout == "".join(line for line in checked_in if not line.startswith("#"))
