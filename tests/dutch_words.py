"""A detector of Dutch text on English pages (issue 20: English complete), for the English crawl.

The vocabulary is data-driven: every word of the Dutch catalogue's translations
(locale/nl/LC_MESSAGES/django.mo) that no English msgid uses, so it grows with the catalogue,
plus the house words and function words that are Dutch whatever the catalogue holds. Left out:
words that are English too (homographs, each with its reason) and the terms of art the English
interface keeps in Dutch (ARCHITECTURE.md: wijkcoach, bijstand, OTS, pleegzorg,
jeugdreclassering).

Decided: "gemeente" is checked. The role's English name is "Municipality" (study/roles.py);
the demo's user *named* gemeente is user data and is taken out of the text before the check,
and "gemeentecode" (the CBS term) is another word. "wijk" is checked too (English: district);
the glossed "(wijk)" after "District" is allowed (ALLOWED_PHRASES).
"""

from __future__ import annotations

import gettext
import re
from functools import cache
from pathlib import Path

CATALOGUE = Path(__file__).resolve().parent.parent / "locale" / "nl" / "LC_MESSAGES" / "django.mo"
WORD = re.compile(r"(?<!\w)[^\W\d_]+(?:['’-][^\W\d_]+)*(?!\w)")

#: Dutch whatever the catalogue says: function words and the house words of the domain.
FUNCTION_WORDS = set(
    "de het een van voor met niet zijn wordt worden bij naar uit aan dat deze dit ook nog geen"
    " maar als heeft hebben kan moet uw je jij wat wie waar hoe alle tot jaar nieuw nieuwe naam"
    " wel nu er zo onder tussen tegen zonder".split()
)
HOUSE_WORDS = set(
    "gezin gezinnen gezinslid gezinsleden meting metingen meetmoment hulpverlener hulpverleners"
    " contactmoment contactmomenten vragenlijst vragenlijsten rapportage rapportages onderzoeker"
    " onderzoekers databeheerder databeheerders gemeente gemeenten wijk wijken volwassene"
    " volwassenen kinderen interventiegroep vergelijkingsgroep afgerond gemist gepland ontbreekt"
    " opslaan annuleren terug bewerken verwijderen toevoegen uitloggen inloggen wachtwoord studie"
    " kosten zorg betrokkenheid koppelsleutel gepubliceerd ingetrokken onderzoek uitkomst"
    " uitkomsten vraag vragen waarde waarden reden gebruikelijk schatter schatting"
    " interventie vergelijking".split()
)
#: Words of Dutch translations that are English words as well (or abbreviations English pages
#: show): never a sign of Dutch on their own.
ENGLISH_HOMOGRAPHS = {
    "en": "the language code EN",
    "die": "English verb",
    "door": "English noun",
    "begin": "English verb",
    "details": "English noun",
    "browser": "English noun",
    "dossier": "English noun",
    "analyse": "British English verb",
    "datum": "English noun",
    "concept": "English noun",
    "matching": "English (the matching diagnostics)",
    "maximum": "English noun",
    "maxima": "English plural",
    "mde": "the abbreviation MDE",
    "toe": "English noun",
    "via": "English preposition",
    "vast": "English adjective",
    "lang": "the attribute and abbreviation",
    "heel": "English noun",
    "ten": "English number",
    "hem": "English noun",
    "val": "abbreviation",
    "ken": "English noun",
    "vol": "the abbreviation vol.",
    "al": "et al.",
    "na": "n/a",
    "kind": "English noun (a contact's kind)",
    "arm": "English noun (a study arm)",
    "over": "English preposition",
    "is": "English verb",
    "in": "English preposition",
    "of": "English preposition",
    "was": "English verb",
    "per": "English preposition",
    "status": "English noun",
    "week": "English noun",
    "op": "the abbreviation op.",
    "pas": "faux pas",
    "sla": "the abbreviation SLA",
}
#: Dutch terms the English interface keeps (terms of art, proper names of instruments and
#: registers): ARCHITECTURE.md's glossary.
TERMS_OF_ART = {
    "wijkcoach",
    "wijkcoaches",
    "bijstand",
    "ots",
    "pleegzorg",
    "jeugdreclassering",
    "ggz",
    "jeugdwet",
    "wmo",
    "participatieladder",
    "gemeentecode",
}
#: Phrases allowed on English pages though they hold a Dutch word, with the reason.
ALLOWED_PHRASES = {
    "(wijk)": "the Dutch term glossed after 'District', as registry extracts name it",
}


def catalogue_pairs() -> list[tuple[str, str]]:
    with CATALOGUE.open("rb") as handle:
        catalog = gettext.GNUTranslations(handle)._catalog  # type: ignore[attr-defined]
    pairs = []
    for key, value in catalog.items():
        msgid = key[0] if isinstance(key, tuple) else key
        if msgid:
            pairs.append((msgid, value))
    return pairs


def _words(text: str) -> set[str]:
    return {w.lower() for w in WORD.findall(text)}


@cache
def vocabulary() -> frozenset[str]:
    english: set[str] = set()
    dutch: set[str] = set()
    for msgid, msgstr in catalogue_pairs():
        english |= _words(msgid)
        dutch |= _words(msgstr)
    found = (dutch - english) | FUNCTION_WORDS | HOUSE_WORDS
    return frozenset(found - set(ENGLISH_HOMOGRAPHS) - TERMS_OF_ART)


def dutch_words(text: str) -> list[str]:
    """The Dutch words of an English text (whole words, any case), in order of appearance."""
    for phrase in ALLOWED_PHRASES:
        text = text.replace(phrase, " ")
    words = vocabulary()
    return [w for w in WORD.findall(text) if w.lower() in words]


#: Dutch words an English msgid must not hold (the catalogue's vocabulary cannot tell: a word
#: an English msgid uses is left out of it); "anders" is how the care list's "other" is stored.
MSGID_WORDS = frozenset((FUNCTION_WORDS | HOUSE_WORDS | {"anders"}) - set(ENGLISH_HOMOGRAPHS))


def dutch_words_in_msgid(msgid: str) -> list[str]:
    for phrase in ALLOWED_PHRASES:
        msgid = msgid.replace(phrase, " ")
    return [w for w in WORD.findall(msgid) if w.lower() in MSGID_WORDS]
