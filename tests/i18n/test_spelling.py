"""Spelling of the Kazakh and Russian translations, checked with hunspell (kk_KZ, ru_RU).

Only Cyrillic words are checked: Latin words in translations are product and app names (Senim, FreeOTP).
hunspell-kk knows few inflected forms of this agglutinative language, so a Kazakh word it rejects is
accepted when stripping regular endings (plural, possessive, case, verb forms, with vowel harmony) leaves
a stem it knows. Words neither dictionary knows and that are right go to ``spelling_allowlist.txt``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

from tests.i18n.catalogues import entries, forms

DICTIONARIES = {"kk": "kk_KZ", "ru": "ru_RU"}
ALLOWLIST = Path(__file__).with_name("spelling_allowlist.txt")
LETTERS = "А-Яа-яЁёӘәҒғҚқҢңӨөҰұҮүҺһІі"
#: A Cyrillic word, hyphenated compounds (ата-ана, ЖСН-нің) kept whole.
WORD = re.compile(f"[{LETTERS}]+(?:-[{LETTERS}]+)*")
#: A placeholder, with the Kazakh ending a number takes after it (%(current)s-сі).
PLACEHOLDER = re.compile(rf"%(?:\(\w+\))?[-#0 +]*\d*(?:\.\d+)?[a-zA-Z%](?:-[{LETTERS}]{{1,4}}\b)?")

BACK_VOWELS, FRONT_VOWELS = set("аоұыяё"), set("әеөүіэ")
#: Vowels after which both kinds of ending occur (цифрлар, логині; ту, күту).
EITHER_VOWELS = set("иую")
#: Regular Kazakh endings, longest first. Each must agree with its stem's last vowel (vowel harmony).
_ENDINGS = """
    лар лер дар дер тар тер  ым ім м ың ің ң ыңыз іңіз ңыз ңіз ы і сы сі ымыз іміз мыз міз
    ның нің дың дің тың тің  ға ге қа ке на не а е ңа ңе  ны ні ды ді ты ті н
    да де та те нда нде  дан ден тан тен нан нен  мен бен пен  дағы дегі тағы тегі ндағы ндегі
    ша ше  лық лік дық дік тық тік  сыз сіз  ма ме ба бе па пе  ған ген қан кен
    атын етін йтын йтін тын тін  йды йді ады еді  са се  ып іп п  у уы уі  л ыл іл ын ін  й
    ғы гі қы кі  мас мес бас бес пас пес  рақ рек ырақ ірек  ушы уші шы ші  ла ле
"""
KAZAKH_ENDINGS = sorted(set(_ENDINGS.split()), key=len, reverse=True)
#: Endings that keep one form whatever the stem's vowels.
INVARIANT_ENDINGS = {"мен", "бен", "пен"}
#: Stem-final consonants voiced before a vowel ending: мектеп -> мектебі, жүрек -> жүрегі.
VOICED = {"б": "п", "г": "к", "ғ": "қ"}


def hunspell_ready() -> bool:
    if not shutil.which("hunspell"):
        return False
    listing = subprocess.run(["hunspell", "-D"], input="", capture_output=True, text=True, check=False)
    return all(name in listing.stdout + listing.stderr for name in DICTIONARIES.values())


pytestmark = pytest.mark.skipif(
    not hunspell_ready(),
    reason="hunspell with the kk_KZ and ru_RU dictionaries is not installed "
           "(apt-get install hunspell hunspell-kk hunspell-ru; CI installs them)")


def unknown_words(words: Iterable[str], language: str) -> set[str]:
    """The words hunspell's dictionary for ``language`` does not know."""
    result = subprocess.run(["hunspell", "-d", DICTIONARIES[language], "-l", "-i", "utf-8"],
                            input="\n".join(sorted(set(words))), capture_output=True, text=True, check=True)
    return set(result.stdout.split())


def _harmonises(stem: str, ending: str) -> bool:
    vowels = BACK_VOWELS | FRONT_VOWELS | EITHER_VOWELS
    stem_vowels = [c for c in stem.lower() if c in vowels]
    ending_vowels = [c for c in ending if c in BACK_VOWELS | FRONT_VOWELS]
    if ending in INVARIANT_ENDINGS or not stem_vowels or not ending_vowels or stem_vowels[-1] in EITHER_VOWELS:
        return True
    return (stem_vowels[-1] in BACK_VOWELS) == (ending_vowels[0] in BACK_VOWELS)


def kazakh_stems(word: str, depth: int = 0) -> Iterator[str]:
    """``word`` and what is left of it after stripping up to four regular endings."""
    yield word
    if word[-1:] in VOICED:
        yield word[:-1] + VOICED[word[-1]]
    if depth == 4:
        return
    for ending in KAZAKH_ENDINGS:
        stem = word[:-len(ending)]
        if word.lower().endswith(ending) and len(stem) >= 2 and _harmonises(stem, ending):
            yield from kazakh_stems(stem, depth + 1)


def allowlist(language: str) -> tuple[set[str], tuple[str, ...]]:
    """(words, prefixes) of the allow-list for ``language``; ``скрининг*`` allows every form."""
    words, prefixes = set(), []
    for line in ALLOWLIST.read_text(encoding="utf-8").splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) == 2 and fields[0] == language:
            entry = fields[1].lower()
            if entry.endswith("*"):
                prefixes.append(entry[:-1])
            else:
                words.add(entry)
    return words, tuple(prefixes)


def translation_words(catalog) -> set[str]:
    words = set()
    for message in entries(catalog):
        for form in forms(message):
            words.update(WORD.findall(PLACEHOLDER.sub(" ", form)))
    return words


def misspelled(words: set[str], language: str) -> list[str]:
    """Words of ``language`` that neither hunspell nor the allow-list accepts."""
    allowed_words, allowed_prefixes = allowlist(language)

    def allowed(word: str) -> bool:
        return word.lower() in allowed_words or word.lower().startswith(allowed_prefixes)

    suspects = {w for w in unknown_words(words, language) if not allowed(w)}
    if language == "ru":
        return sorted(suspects)
    candidates = {w: set(kazakh_stems(w)) for w in suspects}
    unknown_stems = unknown_words(set().union(*candidates.values()), language) if candidates else set()
    return sorted(w for w, stems in candidates.items()
                  if all(s in unknown_stems and not allowed(s) for s in stems))


@pytest.mark.parametrize("language", sorted(DICTIONARIES))
def test_translations_are_spelled_correctly(language, catalogs):
    wrong = misspelled(translation_words(catalogs[language]), language)
    assert not wrong, (f"{language}: words hunspell does not know. Fix the spelling, or add a word that is "
                       f"right to {ALLOWLIST.name}:\n" + "\n".join(wrong))


def test_kazakh_stemming_needs_a_known_stem():
    assert "сынып" in set(kazakh_stems("сыныптарыңыздың"))
    assert "мектеп" in set(kazakh_stems("мектебіңіз"))
    # Vowel harmony: a back-vowel stem does not take a front-vowel ending.
    assert "сынып" not in set(kazakh_stems("сыныптер"))


def test_the_checker_catches_a_misspelling():
    assert misspelled({"құпиясөз", "мектептер", "мектпетер"}, "kk") == ["мектпетер"]
    assert misspelled({"ученик", "учинек"}, "ru") == ["учинек"]
