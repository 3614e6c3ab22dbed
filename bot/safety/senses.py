"""Benign senses that the whole prompt sets, beyond terms.py's word-next-to-word senses.

Each is a class of use, not a phrase from a labelled set:
- drinks: flagged words that name cocktails and shots ("sex on the beach", "slippery nipple",
  "screaming orgasm", "pornstar martini", "blow job" shot): within two words of a drink word, with
  no person in the prompt ("sex in a cocktail bar" is not a drink);
- place names: a flagged word written capitalized right after a preposition ("village of Fucking",
  "welcome to Intercourse", "Ortsschild von Fucking") or before a comma and a region ("Dildo,
  Newfoundland"), in a prompt about a place (a sign, a town, tourists, a map, a harbour);
- a sign about nudism ("nudist beach sign", "nude beach warning sign"): the sign within two words, no
  person in the prompt;
- a dish whose name is a slur elsewhere ("faggots" with gravy and peas, the British meatballs), with
  two words of cooking and no person: the one sense here that lifts a PROTECTED word, so it asks
  for more evidence.
A sense never applies when the prompt also names a person (prompt_filter.PERSON_WORDS): "a naked
woman holding a cocktail" is not about the drink.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from bot.safety.normalize import ascii_text
from bot.safety.terms import PERSON_WORDS, Category


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Flagged words (and stems: "orgasm", "porn") that are also parts of drink names.
DRINK_TERMS = _words("sex nipple nipples orgasm orgasms blowjob pornstar porn")
DRINK_PHRASES = frozenset({"blow job"})
# Words that name a drink, next to the flagged word; "shot" only with a word of mixing ("a close-up
# shot" is a photograph).
DRINK_FIELD = _words("""cocktail cocktails coctel cocteles cocktel mocktail liqueur liqueurs sambuca baileys kahlua
    schnapps amaretto vodka tequila rum gin bartender barman barmaid mixology mixologist martini highball
    shooter shooters layered glassware garnish garnished""")
SHOT_WORDS = _words("shot shots chupito chupitos")
SHOT_CONTEXT = _words("layered whipped cream menu liqueur glass")
# A place named after a preposition ("of", "to", "von", "in", "de", "near"), in a prompt about places.
PLACE_FIELD = _words("""village town hamlet city municipality county parish township sign signs signpost
    roadsign road welcome postcard postkarte ortsschild dorf stadt tourist tourists touristen map
    station pueblo ciudad ville aldeia cidade harbour harbor port bay coast island valley lake river""")
PLACE_BEFORE = _words("of to von in from near nach de du a bei")
PLACE_TERMS = frozenset({Category.SEXUAL, Category.SUGGESTIVE, Category.GORE})
# Nudism named on a sign or notice, nobody shown.
NUDISM_TERMS = _words("nudist nudists naturist naturists nudism")
NEGATORS = _words("no without nobody")
NUDE_PLACES = _words("beach beaches resort resorts camp camps area")
NOTICE_FIELD = _words("sign signs signpost signage warning notice placard board noticeboard map")
DISH_TERMS = _words("faggot faggots")
COOKING_FIELD = _words("""gravy peas mushy mash mashed onion onions recipe pub dish plate butcher butchers pork
    liver meatball meatballs oven baked cooking cooked dinner food traditional british welsh""")
_CAPITALIZED = re.compile(r"[^\W\d_][\w'’-]*")
_TOWN_REGION = re.compile(r"\b([A-Z][a-z]+), [A-Z][a-z]+")


def place_names(prompt: str) -> frozenset[str]:
    """Words written capitalized right after a preposition (as the normalizer spells them), when the
    prompt is about a place: "welcome to Intercourse, Pennsylvania"."""
    raw = _CAPITALIZED.findall(prompt)
    words = [ascii_text(w) for w in raw]
    if PLACE_FIELD.isdisjoint(words):
        return frozenset()
    after_preposition = {ascii_text(word) for before, word in zip(words, raw[1:], strict=False)
                         if before in PLACE_BEFORE and word[:1].isupper() and not word.isupper()}
    # "Town, Region": a capitalized word, a comma, a capitalized word ("Dildo, Newfoundland")
    town_region = {ascii_text(m.group(1)) for m in _TOWN_REGION.finditer(prompt)}
    return frozenset(after_preposition | town_region)


WINDOW = 2  # how near a drink or notice word must be to the flagged word


def _near(words: list[str], term: str, field: frozenset[str]) -> bool:
    """A word of `field` within WINDOW words of (a word of) `term`."""
    first = term.split()[0]
    for index, word in enumerate(words):
        near = words[max(0, index - WINDOW):index + WINDOW + len(term.split())]
        if word.startswith(first) and not field.isdisjoint(near):
            return True
    return False


def _nude_place(words: list[str], term: str) -> bool:
    """"nude" naming a place for nudism ("nude beach"), not a person."""
    return term == "nude" and any(a == "nude" and b in NUDE_PLACES for a, b in zip(words, words[1:], strict=False))


def benign_hits(hits: Iterable, words: list[str], prompt: str) -> list:
    """The hits (prompt_filter.Hit) that the prompt's whole sense makes benign; `words`: the
    prompt's words as the rules read them."""
    present = set(words)
    # A person word counts unless it is asked away ("no people", "without a person").
    persons = {word for index, word in enumerate(words) if word in PERSON_WORDS
               and not (index and words[index - 1] in NEGATORS)}
    if persons:
        return []
    hits = list(hits)
    lifted = []
    drink = DRINK_FIELD | (SHOT_WORDS if not present.isdisjoint(SHOT_CONTEXT) else frozenset())
    lifted += [h for h in hits if h.category is Category.SEXUAL and (h.term in DRINK_TERMS or h.term in DRINK_PHRASES)
               and _near(words, h.term, drink)]
    places = place_names(prompt)
    if places:
        lifted += [h for h in hits if h.category in PLACE_TERMS and h.term in places]
    lifted += [h for h in hits if h.category is Category.SEXUAL and _near(words, h.term, NOTICE_FIELD)
               and (h.term in NUDISM_TERMS or _nude_place(words, h.term))]
    others = [h for h in hits if h.category is Category.HATE and h.term not in DISH_TERMS]
    if len(present & COOKING_FIELD) >= 2 and not others:
        lifted += [h for h in hits if h.category is Category.HATE and h.term in DISH_TERMS]
    return list(dict.fromkeys(lifted))
