"""What a member's negative prompt asks the model away from: clothing, or adulthood.

A negative prompt is a list of things to keep *out* of the image, so a list of clothing words ("clothes,
shirt, underwear") asks for nudity from a prompt that says nothing sexual, and a list of adulthood
words ("adult, mature") asks for a younger-looking subject. The prompt filter reads the prompt's
words; this module reads the negative's, with the same normalizer (every spelling the filter sees:
leet, homoglyphs, separators, full-width, transliteration), item by item (negatives are
comma-separated lists, and "old" means something else in "old photo").

- Clothing: an item holding a clothing word (or "sfw", "censored", "fully clothed"), unless a defect
  word qualifies its one clothing word ("deformed clothes", "bad clothing": keep the clothes, just
  not broken ones).
- Adulthood: an item made only of adulthood words and filler ("(mature:1.3)", "adult body",
  "grown up"); "adult content" is not, and neither are old-age words ("old", "elderly").

`negative_refusal` turns that into the decision (README "Content safety" has the table):
- anywhere, when minors are in play (the prompt names a minor or an age under 18): refused as
  sexual content involving minors, whichever of the two it steers away from;
- anywhere, adulthood steered away from under a sexual or suggestive prompt: the same;
- outside the channels where NSFW is allowed: refused (clothing as sexual, adulthood as minors).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from bot.safety.normalize import Token, normalize
from bot.safety.policy import ChannelKind
from bot.safety.terms import Category


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words a reader takes for clothing (English, and the usual Spanish, French, German, Portuguese,
# Russian and Japanese ones as the normalizer transliterates them), and asking for "safe" output.
CLOTHING = _words("""
    clothes clothing clothed cloths outfit outfits garment garments attire apparel wardrobe dressed
    dress dresses shirt shirts tshirt tshirts blouse blouses sweater sweaters hoodie hoodies
    jacket jackets coat coats bra bras brassiere underwear undergarment undergarments underpants
    panties panty knickers lingerie pants trousers jeans leggings skirt skirts shorts bikini bikinis
    swimsuit swimsuits swimwear leotard robe robes towel covering coverings
    sfw censored censor censorship censoring modest modesty
    ropa vestido vestida camisa camiseta pantalones falda
    vetements vetement habille habillee chemise jupe culotte
    kleidung kleider kleid hemd unterwasche bekleidet angezogen
    roupa roupas vestida camisola calcinha
    odezhda odezhdy rubashka trusy
    fuku yofuku shitagi yifu yangfu fuzhuang xiazhe ranjieri shiyatsu
""")
CLOTHING_PHRASES = frozenset({("safe", "for", "work"), ("bar", "censor"), ("mosaic", "censor"), ("fully", "clothed")})
# A defect qualifying clothing words: the member wants the clothes, drawn properly.
DEFECTS = _words("""
    bad badly deformed ugly messy wrinkled wrinkly torn ripped blurry distorted malformed poorly
    mutated extra weird strange dirty broken misshapen disfigured floating missing melting melted
    worst low lowres glitch glitched duplicate cropped
""")
# Adulthood, not old age: "ugly, old" or "elderly" on a portrait is an everyday negative that asks
# away from old age (an adult still comes out), so old-age words do not count here.
ADULTHOOD = _words("""
    adult adults mature matured grown grownup grownups milf gilf
""")
# Words that may stand beside an adulthood word in an item without changing what it asks away from.
FILLER = _words("""
    a an the of and or with too very looking look looks like face faces body bodies skin features
    feature person people woman women man men lady ladies male female figure appearance up age
    ugly blurry bad worst low quality lowres deformed
""")
_ITEM_SPLIT = re.compile(r"[,;|\n]+")


@dataclass(frozen=True)
class Steering:
    """What a negative prompt steers the model away from (the items, for tests and moderators)."""

    clothing: tuple[str, ...] = ()
    adulthood: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.clothing or self.adulthood)


def _forms(token: Token) -> set[str]:
    return {*token.forms, token.squeezed, *token.stretched}


def _item_words(reading) -> list[set[str]]:
    """Each word's spellings; a word written with separators ("c.l.o.t.h.e.s", "t-shirt") counts as
    its pieces and as the joined word, digits (weights such as "1.4") are dropped."""
    words = [_forms(token) for token in reading.tokens]
    for joined in reading.joined:
        for index in range(joined.start, joined.end):
            words[index] = words[index] | _forms(joined.word)
    return [forms for forms, token in zip(words, reading.tokens, strict=True) if not token.canonical.isdigit()]


def _clothing(words: list[set[str]], canonical: list[str]) -> bool:
    found = sum(1 for forms in words if forms & CLOTHING)
    if found:
        # "deformed clothes" keeps the clothes; "clothes bad shirt underwear" does not.
        return not (found == 1 and len(words) <= 4 and any(forms & DEFECTS for forms in words))
    return any(tuple(canonical[i:i + len(p)]) == p for p in CLOTHING_PHRASES for i in range(len(canonical)))


def _adulthood(words: list[set[str]]) -> bool:
    meaningful = [forms for forms in words if not forms & FILLER]
    return bool(meaningful) and all(forms & ADULTHOOD for forms in meaningful)


def steering(negative: str) -> Steering:
    """The items of `negative` that steer away from clothing or adulthood (linear in its length)."""
    clothing: list[str] = []
    adulthood: list[str] = []
    for item in _ITEM_SPLIT.split(negative or ""):
        if not item.strip():
            continue
        for reading in normalize(item).readings:
            words = _item_words(reading)
            canonical = [token.canonical for token in reading.tokens if not token.canonical.isdigit()]
            if _clothing(words, canonical):
                clothing.append(item.strip())
                break
            if _adulthood(words):
                adulthood.append(item.strip())
                break
    return Steering(tuple(clothing), tuple(adulthood))


SEXUAL_CUES = frozenset({Category.SEXUAL, Category.SUGGESTIVE, Category.NONCONSENSUAL})


def negative_refusal(steer: Steering, prompt_categories: frozenset[Category], kind: ChannelKind) -> Category | None:
    """The category that refuses a negative prompt that steers as `steer` says, with a prompt of
    `prompt_categories` in a channel of `kind`; None: it may be rendered. (Where NSFW is allowed, an
    adulthood negative that passes here still counts as a sign of a minor for the image check.)"""
    if not steer:
        return None
    if Category.MINORS in prompt_categories:
        return Category.SEXUAL_MINORS
    if steer.adulthood and prompt_categories & SEXUAL_CUES:
        return Category.SEXUAL_MINORS
    if kind.allows_nsfw:
        return None
    return Category.SEXUAL if steer.clothing else Category.MINORS


def negative_refusal_text(steer: Steering, category: Category, kind: ChannelKind, delivering: bool = False) -> str:
    """The member's reason: what the negative steers away from and why that is refused here (never
    the matched word)."""
    away = "clothing" if steer.clothing else "adults (toward a younger-looking subject)"
    if category is Category.SEXUAL_MINORS:
        why = ("together with a minor or a sexual prompt that asks for sexual content involving minors, which is "
               "never allowed, age-restricted channels included")
    elif kind is ChannelKind.AGE_RESTRICTED:
        why = "which this server's moderators have not enabled, even in age-restricted channels"
    else:
        why = "which this channel does not allow"
    if delivering:
        return f"🚫 Not delivered: the negative prompt steers the image away from {away}, {why}. Nothing was charged."
    return (f"🚫 Your negative prompt was refused: it steers the image away from {away}, {why}. "
            "Nothing was queued or charged.")
