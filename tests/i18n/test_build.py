"""compile_catalogs(): .po -> .mo without pybabel, only when needed, never a fuzzy guess."""

from __future__ import annotations

import os
import shutil

from babel.support import Translations

from app.core.translations_build import compile_catalogs
from tests.i18n.catalogues import TRANSLATIONS


def test_compiles_missing_and_stale_catalogues_only(tmp_path):
    for language in ("kk", "ru"):
        target = tmp_path / language / "LC_MESSAGES"
        target.mkdir(parents=True)
        shutil.copy(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", target / "messages.po")

    written = compile_catalogs(tmp_path)
    assert sorted(p.parent.parent.name for p in written) == ["kk", "ru"]
    assert Translations.load(str(tmp_path), ["ru"]).gettext("Sign in") == "Войти"
    assert compile_catalogs(tmp_path) == []  # up to date

    po = tmp_path / "kk" / "LC_MESSAGES" / "messages.po"
    mo_time = po.with_suffix(".mo").stat().st_mtime
    os.utime(po, (mo_time + 10, mo_time + 10))
    assert [p.parent.parent.name for p in compile_catalogs(tmp_path)] == ["kk"]
    assert not list(tmp_path.rglob(".messages-*"))  # no temporary files left behind


def test_fuzzy_entries_are_left_out(tmp_path):
    target = tmp_path / "ru" / "LC_MESSAGES"
    target.mkdir(parents=True)
    (target / "messages.po").write_text(
        'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=utf-8\\n"\n\n'
        '#, fuzzy\nmsgid "Save"\nmsgstr "Сохранить"\n\nmsgid "Back"\nmsgstr "Назад"\n', encoding="utf-8")
    compile_catalogs(tmp_path)
    translations = Translations.load(str(tmp_path), ["ru"])
    assert translations.gettext("Save") == "Save"
    assert translations.gettext("Back") == "Назад"
