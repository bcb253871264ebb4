"""Helpers for the guidance tests: articles made through the services, and the fixture content files."""

from __future__ import annotations

from pathlib import Path

from app.guidance import services
from app.guidance.services import Draft

#: Two small content folders in the format of the shipped ones.
FIXTURES = Path(__file__).resolve().parent / "content"


def draft(**overrides) -> Draft:
    values = {"topic": "exam-stress", "audiences": ["parents"], "titles": {"ru": "Экзамены без паники"},
              "summaries": {"ru": "Коротко о стрессе."}, "bodies": {"ru": "Сон, еда и **перерывы**."},
              "sources": [{"text": "NHS. Exam stress.", "url": "https://www.nhs.uk/"}]}
    values.update(overrides)
    return Draft(**values)


def published(author, reviewer, *, school=None, **overrides):
    """An article written by ``author`` and published by ``reviewer``."""
    article = services.create_article(actor=author, school=school, data=draft(**overrides))
    services.submit(actor=author, article=article, version=article.version)
    services.publish(actor=reviewer, article=article, version=article.version)
    return article
