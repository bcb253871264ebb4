"""Guidance articles for parents (also readable by school staff), as translatable strings.

The texts follow safe-messaging practice (WHO/IASP): they describe warning signs and what to do, never a
method of self-harm, and every article ends with where to get help (the school psychologist, 150, 111,
112; kundelik-api.md §3.4). Sources are listed under each article. The content owner and the school
psychological service should review the wording before each release.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

Text: TypeAlias = str | LazyString


@dataclass(frozen=True)
class Section:
    heading: Text
    bullets: tuple[Text, ...]
    intro: Text | None = None


@dataclass(frozen=True)
class Article:
    slug: str
    title: Text
    summary: Text
    sections: tuple[Section, ...]
    sources: tuple[Text, ...]


_WHO_ADOLESCENTS = _l("World Health Organization, “Mental health of adolescents”, fact sheet.")
_WHO_HAT = _l("World Health Organization, “Helping Adolescents Thrive” guidelines, 2020.")
_WHO_LIVE_LIFE = _l("World Health Organization, “LIVE LIFE: an implementation guide for suicide prevention "
                    "in countries”, 2021.")
_WHO_MEDIA = _l("World Health Organization and IASP, “Preventing suicide: a resource for media "
                "professionals”, 2023 update.")
_UNICEF_CYBER = _l("UNICEF, “Cyberbullying: what is it and how to stop it”.")
_NHS_EXAMS = _l("NHS (United Kingdom), “Help your child beat exam stress”.")
_HELPLINES = _l("Helplines 150 (children and youth, free, 24/7) and 111 (family, women's and children's "
                "rights, free, 24/7).")

ARTICLES: tuple[Article, ...] = (
    Article(
        slug="talking-about-feelings",
        title=_l("How to talk with your child about feelings"),
        summary=_l("Children cope better when they know they can bring any feeling to you, "
                   "including anger, fear and sadness."),
        sections=(
            Section(_l("Make room for conversation"), (
                _l("Choose calm moments: a walk, a car ride or cooking together is often easier than "
                   "a face-to-face talk."),
                _l("Listen more than you speak. Let your child finish, even if you disagree."),
                _l("Name the feeling you notice: “You seem upset today. Do you want to tell me about it?”"),
                _l("Take the feeling seriously, even when the reason seems small to you."),
                _l("Talk about your own feelings in simple words: children learn from how you cope."),
            )),
            Section(_l("What to avoid"), (
                _l("Saying “it’s nothing” or “stop crying”: the child learns not to tell you next time."),
                _l("Comparing your child with brothers, sisters or classmates."),
                _l("Punishing your child for being honest about a mistake or a problem."),
            )),
            Section(_l("If your child tells you something worrying"), (
                _l("Stay calm and thank your child for telling you."),
                _l("Do not promise to keep a secret if someone’s safety is at risk; explain that you "
                   "will get help together."),
                _l("Talk to the school psychologist: the conversation is confidential and free."),
            )),
        ),
        sources=(_WHO_HAT, _WHO_ADOLESCENTS, _HELPLINES),
    ),
    Article(
        slug="signs-your-child-may-need-help",
        title=_l("Signs that your child may need help"),
        summary=_l("Every child has bad days. Changes that last two weeks or more, or that worry you, "
                   "are a reason to talk and to ask for help."),
        sections=(
            Section(_l("Changes to notice"), (
                _l("Sleeping or eating much more or much less than usual."),
                _l("Pulling away from friends and family, spending most of the time alone."),
                _l("Losing interest in things they used to enjoy."),
                _l("Falling marks, missing school, trouble concentrating."),
                _l("Frequent anger, irritability or tears; often feeling tired or unwell without a "
                   "medical cause."),
            )),
            Section(_l("Signs that need action today"), (
                _l("Talking or writing about feeling hopeless, being a burden, or not wanting to live."),
                _l("Saying goodbye to people or giving away things that matter to them."),
                _l("Injuries your child cannot or will not explain."),
            ), intro=_l("These signs do not always mean your child is in danger, but do not wait:")),
            Section(_l("What you can do"), (
                _l("Ask calmly and directly how your child is and whether they have thoughts of "
                   "suicide. Asking does not put the idea into their head; it shows that you care."),
                _l("Listen without judging or lecturing. Tell your child that help is available and "
                   "that you will find it together."),
                _l("Keep medicines and other things that could cause harm out of reach."),
                _l("Contact the school psychologist or your doctor. If your child is in immediate "
                   "danger, stay with them and call 112."),
            )),
        ),
        sources=(_WHO_LIVE_LIFE, _WHO_MEDIA, _WHO_ADOLESCENTS, _HELPLINES),
    ),
    Article(
        slug="cyberbullying",
        title=_l("Cyberbullying: what parents can do"),
        summary=_l("Bullying by message, in chats or on social networks follows a child home. "
                   "Your calm support matters most."),
        sections=(
            Section(_l("Signs to notice"), (
                _l("Your child is upset after using the phone or the computer, or suddenly stops using them."),
                _l("Hides the screen, deletes accounts or does not want to talk about online life."),
                _l("Does not want to go to school or to meet classmates."),
            )),
            Section(_l("What to do"), (
                _l("Listen and tell your child that it is not their fault."),
                _l("Do not take the phone away as a punishment: children then stop telling adults."),
                _l("Do not reply to the bullies or take revenge; keep screenshots of the messages with "
                   "dates."),
                _l("Block the accounts and report them to the platform."),
                _l("Tell the class teacher and the school psychologist; the school must act when "
                   "pupils bully each other."),
                _l("If there are threats, pressure to send intimate pictures, or blackmail, contact "
                   "the police (112) and the 111 helpline."),
            )),
        ),
        sources=(_UNICEF_CYBER, _WHO_HAT, _HELPLINES),
    ),
    Article(
        slug="exam-stress",
        title=_l("Exam stress"),
        summary=_l("Some stress before exams is normal and can even help. Too much stress makes "
                   "learning harder."),
        sections=(
            Section(_l("Signs of too much stress"), (
                _l("Trouble sleeping, headaches or stomach aches, loss of appetite."),
                _l("Constant worry, irritability, crying, saying “I will fail anyway”."),
                _l("Giving up on studying or, on the contrary, studying without any breaks."),
            )),
            Section(_l("How you can help"), (
                _l("Help your child plan revision in short blocks with breaks."),
                _l("Protect sleep, regular meals and some physical activity every day."),
                _l("Praise effort, not only marks. Remind your child that one exam does not decide "
                   "their whole future."),
                _l("Avoid energy drinks and too much coffee."),
                _l("Keep your own worries about results away from your child."),
                _l("If anxiety does not ease, talk to the school psychologist."),
            )),
        ),
        sources=(_NHS_EXAMS, _WHO_HAT, _HELPLINES),
    ),
)

_BY_SLUG = {article.slug: article for article in ARTICLES}


def get_article(slug: str) -> Article | None:
    """The article with this slug, or None."""
    return _BY_SLUG.get(slug)
