"""Forms of the guidance library: an article (every language on one page), workflow steps, search, choosing an
article for parents. Forms that change an article carry the version they were loaded with (hidden)."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, HiddenInput, ListWidget

from app.admin.forms import choices
from app.guidance import labels
from app.guidance.models import LANGUAGES, Audience, Topic, Translation
from app.guidance.services import QUERY_MAX, Draft

#: Longest article body in one language (a long leaflet; anything longer should be split).
BODY_MAX = 30000


class _Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _version() -> IntegerField:
    return IntegerField(widget=HiddenInput(), validators=[InputRequired()])


class ArticleForm(FlaskForm):
    """One version of an article. A language is optional, but at least one needs a title and a text."""

    topic = SelectField(_l("Topic"), choices=choices((t.value, labels.TOPICS[t.value]) for t in Topic),
                        validators=[DataRequired()])
    audiences = _Checkboxes(_l("For whom"), choices=choices((a.value, labels.AUDIENCES[a.value]) for a in Audience),
                            validators=[DataRequired(message=_l("Choose at least one audience."))])
    distress = BooleanField(_l("The article discusses distress or risk"),
                            description=_l("Its page then shows the help lines and services."))
    position = IntegerField(_l("Order in lists"), default=100, validators=[InputRequired(), NumberRange(0, 9999)])
    title_kk = StringField(_l("Title in Kazakh"), validators=[Optional(), Length(max=200)])
    summary_kk = StringField(_l("Summary in Kazakh"), validators=[Optional(), Length(max=500)])
    body_kk = TextAreaField(_l("Text in Kazakh"), validators=[Optional(), Length(max=BODY_MAX)])
    translation_kk = SelectField(_l("Kazakh text"), default=Translation.WRITTEN.value,
                                 choices=choices((t.value, labels.TRANSLATIONS[t.value]) for t in Translation))
    title_ru = StringField(_l("Title in Russian"), validators=[Optional(), Length(max=200)])
    summary_ru = StringField(_l("Summary in Russian"), validators=[Optional(), Length(max=500)])
    body_ru = TextAreaField(_l("Text in Russian"), validators=[Optional(), Length(max=BODY_MAX)])
    translation_ru = SelectField(_l("Russian text"), default=Translation.WRITTEN.value,
                                 choices=choices((t.value, labels.TRANSLATIONS[t.value]) for t in Translation))
    title_en = StringField(_l("Title in English"), validators=[Optional(), Length(max=200)])
    summary_en = StringField(_l("Summary in English"), validators=[Optional(), Length(max=500)])
    body_en = TextAreaField(_l("Text in English"), validators=[Optional(), Length(max=BODY_MAX)])
    translation_en = SelectField(_l("English text"), default=Translation.WRITTEN.value,
                                 choices=choices((t.value, labels.TRANSLATIONS[t.value]) for t in Translation))
    sources = TextAreaField(_l("Sources"), validators=[Optional(), Length(max=5000)],
                            description=_l("One per line: the source, then “|” and its web address if it has one."))
    version = IntegerField(widget=HiddenInput(), validators=[Optional()])

    def draft(self) -> Draft:
        """The form's values as the service takes them."""
        sources = []
        for line in (self.sources.data or "").splitlines():
            text, _sep, url = line.partition("|")
            if text.strip():
                sources.append({"text": text.strip(), "url": url.strip()})
        return Draft(
            topic=self.topic.data or "", audiences=list(self.audiences.data or []), distress=bool(self.distress.data),
            position=int(self.position.data or 0),
            titles={lang: getattr(self, f"title_{lang}").data or "" for lang in LANGUAGES},
            summaries={lang: getattr(self, f"summary_{lang}").data or "" for lang in LANGUAGES},
            bodies={lang: getattr(self, f"body_{lang}").data or "" for lang in LANGUAGES},
            translations={lang: getattr(self, f"translation_{lang}").data or "" for lang in LANGUAGES},
            sources=sources)

    @staticmethod
    def data_of(version: Any) -> dict[str, Any]:
        """Form data that starts an edit from ``version`` (an ArticleVersion)."""
        data: dict[str, Any] = {"topic": version.topic, "audiences": version.audience_list,
                                "distress": version.distress, "position": version.position,
                                "sources": "\n".join(s["text"] + (f" | {s['url']}" if s.get("url") else "")
                                                     for s in version.sources)}
        for lang in LANGUAGES:
            for name in ("title", "summary", "body"):
                data[f"{name}_{lang}"] = version.text(name, lang)
            data[f"translation_{lang}"] = version.text("translation", lang) or Translation.WRITTEN.value
        return data


class StepForm(FlaskForm):
    """A workflow step (send for review, publish, send back, archive, restore) of the version shown."""

    version = _version()


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField(_l("Search"), validators=[Optional(), Length(max=QUERY_MAX)])
    topic = SelectField(_l("Topic"), validators=[Optional()],
                        choices=choices([("", _l("All topics")), *((t.value, labels.TOPICS[t.value]) for t in Topic)]))


class RecommendForm(FlaskForm):
    """Choose an article for the parents of a class, or of one pupil of it."""

    class_id = SelectField(_l("Class"), coerce=int, validators=[InputRequired()])
    pupil_id = SelectField(_l("Pupil"), coerce=int, validators=[InputRequired()],
                           description=_l("Or all parents of the class."))
