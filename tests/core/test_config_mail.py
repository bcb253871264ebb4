"""Mail delivery settings can come from the environment; a wrong value names the variable."""

from __future__ import annotations

import pytest

from config import environment_overrides


def test_mail_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("SENIM_MAIL_DELIVERY", "off")
    monkeypatch.setenv("SENIM_MAIL_MAX_ATTEMPTS", "12")
    monkeypatch.setenv("SENIM_SMTP_TIMEOUT", "2.5")
    values = environment_overrides("production")
    assert values["SENIM_MAIL_DELIVERY"] == "off"
    assert values["SENIM_MAIL_MAX_ATTEMPTS"] == 12 and values["SENIM_SMTP_TIMEOUT"] == 2.5


def test_unset_mail_settings_keep_the_defaults(monkeypatch):
    for name in ("SENIM_MAIL_DELIVERY", "SENIM_MAIL_MAX_ATTEMPTS", "SENIM_SMTP_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    values = environment_overrides("production")
    assert not {"SENIM_MAIL_DELIVERY", "SENIM_MAIL_MAX_ATTEMPTS", "SENIM_SMTP_TIMEOUT"} & set(values)


@pytest.mark.parametrize(("name", "value"), [
    ("SENIM_MAIL_DELIVERY", "sometimes"), ("SENIM_MAIL_MAX_ATTEMPTS", "0"), ("SENIM_MAIL_MAX_ATTEMPTS", "many"),
    ("SENIM_SMTP_TIMEOUT", "-1"),
])
def test_a_wrong_mail_setting_stops_the_start_with_its_name(monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match=name):
        environment_overrides("production")
