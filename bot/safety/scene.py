"""A scene with no one in it: where a negative of clothing words is housekeeping, not the nudity trick.

A negative prompt that lists clothing ("clothes, shirt, underwear") asks for nudity from a safe prompt,
so outside NSFW channels negative.py refuses it. With no one to undress it asks for nothing of the
kind: an empty wardrobe without clothes in it, a tidy room without laundry, a clothes line with
nothing on it. The scene counts as empty when the prompt names no person (a broad list in several
languages, minors included, and no Chinese, Japanese or Korean text, whose words this module cannot
read) and either says so ("empty", "vacant", "no people", "vide", "leer", "vacía", ...) or the
negative keeps people out too ("people, person"). A name alone ("emma watson on an empty beach") is
not seen here: the image checker still scores every output in SFW channels.
"""
from __future__ import annotations

import re

from bot.safety.terms import PERSON_WORDS


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


PEOPLE = PERSON_WORDS | _words("""
    people persons human humans figure figures someone somebody person character characters
    nurse actress actor student students wife husband girlfriend boyfriend waifu igirl girl girls solo portrait
    selfie dancer cheerleader teacher maid nun elf princess queen king witch goddess mother mom mum sister daughter
    son bride groom cosplay cosplayer idol singer model pose posing nude naked sexy body bodies
    chica chico chicas chicos nina nino mujer mujeres hombre hombres persona personas gente
    madchen junge frau frauen mann manner mensch menschen person personen
    fille filles garcon femme femmes homme hommes personne personnes gens
    ragazza ragazzo donna donne uomo uomini persona persone bambina bambino
    menina menino mulher mulheres homem homens pessoa pessoas
    kobieta dziewczyna chlopak mezczyzna ludzie osoba kadin kiz erkek insan insanlar vrouw meisje jongen man mensen
    devushka zhenshchina muzhchina lyudi chelovek devochka malchik
""")
EMPTY = _words("""empty vacant unoccupied deserted abandoned nobody noone uninhabited
    vacia vacio vacias vacios vide vides leer leere leeren leeres vuoto vuota vazio vazia pusty pusta puste bos
    leeg lege pustoy pustaya""")
EMPTY_PHRASES = re.compile(r"\b(?:no (?:people|person|one|humans|figures)|without (?:people|anyone|a person)|"
                           r"sin gente|sin personas|sans personne|ohne menschen|senza persone|sem pessoas)\b")
# Who the negative keeps out (not "nude": a negative of "nude, clothes" is negative.py's business).
KEPT_OUT = _words("""people persons person human humans figure figures personnes personas pessoas menschen
    personen persone lyudi ludzie insanlar mensen gente gens humanos""")
NEGATORS = _words("no without nobody sin sans ohne senza sem bez zonder")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")


def no_one_shown(prompt: str, prompt_words: list[str], negative_words: list[str]) -> bool:
    """The prompt shows no one: no person named, and it says it is empty or the negative keeps
    people out. `*_words`: the texts' words as the rules read them (prompt_filter.words)."""
    named = {word for index, word in enumerate(prompt_words)
             if word in PEOPLE and not (index and prompt_words[index - 1] in NEGATORS)}
    if _CJK.search(prompt) or named:
        return False
    text = " ".join(prompt_words)
    return (not EMPTY.isdisjoint(prompt_words) or EMPTY_PHRASES.search(text) is not None
            or not KEPT_OUT.isdisjoint(negative_words))
