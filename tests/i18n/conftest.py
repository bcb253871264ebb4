"""Catalogue fixtures for the i18n tests; the ``.mo`` files are compiled before any test runs."""

from __future__ import annotations

import pytest
from babel.messages.catalog import Catalog

from app.core.translations_build import compile_catalogs
from tests.i18n.catalogues import LANGUAGES, TRANSLATIONS, extract_catalog, load_catalog

# Flask-Babel caches a missing catalogue as "no translation" for the whole process, so the .mo files must
# exist before the first request of any test in this worker: compile at collection time.
compile_catalogs(TRANSLATIONS)


@pytest.fixture(scope="session")
def extracted() -> Catalog:
    return extract_catalog()


@pytest.fixture(scope="session")
def catalogs() -> dict[str, Catalog]:
    return {language: load_catalog(language) for language in LANGUAGES}
