"""What a member's negative prompt asks the model away from: clothing, or adulthood.

A negative prompt is a list of things to keep *out* of the image, so a list of clothing words ("clothes,
shirt, underwear") asks for nudity from a prompt that says nothing sexual, and a list of adulthood
words ("adult, mature") asks for a younger-looking subject. The prompt filter reads the prompt's
words; this module reads the negative's, with the same normalizer (every spelling the filter sees:
leet, homoglyphs, separators, full-width, transliteration), item by item (negatives are
comma-separated lists, and "old" means something else in "old photo").

- Clothing: an item holding a clothing word (or "sfw", "censored", "fully clothed"), unless a defect
  word qualifies its one clothing word ("deformed clothes", "bad clothing": keep the clothes, just
  not broken ones). It counts when one item says clothing itself ("clothes", "underwear",
  "censored") or three name garments ("shirt, pants, dress"), and not when the negative also keeps
  nudity out ("nsfw, nude, underwear" keeps the picture dressed).
- Adulthood: an item made only of adulthood words and filler ("(mature:1.3)", "adult body",
  "grown up"); "adult content" is not, and neither are old-age words ("old", "elderly").

`negative_refusal` turns that into the decision (README "Content safety" has the table):
- anywhere, when minors are in play (the prompt names a minor or an age under 18): refused as
  sexual content involving minors, whichever of the two it steers away from;
- anywhere, adulthood steered away from: the same (it asks for a younger-looking subject);
- clothing, outside the channels where NSFW is allowed: refused as sexual.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.i18n import N_
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
# Clothing itself, or covering up: one of these in a negative is the trick. A garment word alone
# ("dress" on a portrait of a man in a suit, "dress, skirt") is not: it takes three garments.
STRONG_CLOTHING = _words("""
    clothes clothing clothed cloths outfit outfits garment garments attire apparel wardrobe dressed
    underwear undergarment undergarments underpants panties panty knickers bra bras brassiere covering
    coverings sfw censored censor censorship censoring modest modesty
    ropa vestida vetements vetement habille habillee kleidung bekleidet angezogen roupa roupas odezhda
    odezhdy fuku yofuku shitagi yifu fuzhuang xiazhe
""")
GARMENTS_NEEDED = 3
# A negative that also keeps nudity out ("nsfw, nude, underwear", the bot's own safety negative)
# keeps the picture dressed: its clothing words steer away from underwear showing, not from clothes.
NUDITY = _words("nsfw nude naked nudity nipples nipple explicit sexual porn topless lewd hentai")
# Adult bodies: steering away from them asks for a child's.
ADULTHOOD_PHRASES = frozenset({("large", "breasts"), ("big", "breasts"), ("pubic", "hair"), ("adult", "body"),
                               ("adult", "face"), ("mature", "body"), ("mature", "face"), ("grown", "woman"),
                               ("grown", "man"), ("womanly",), ("body", "hair")})
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
    erwachsen erwachsene erwachsener erwachsenen reif reife reifer reifen adulto adulta adultos adultas
    maduro madura maduros maduras adulte adultes vzroslyy vzroslaya vzroslye vzroslaia zrelyy zrelaya
    otona seijin chengren
""")
# Words that may stand beside an adulthood word in an item without changing what it asks away from.
FILLER = _words("""
    a an the of and or with too very looking look looks like face faces body bodies skin features
    feature person people woman women man men lady ladies male female figure appearance up age
    ugly blurry bad worst low quality lowres deformed
    korper cuerpo corps corpo telo rosto gesicht visage cara litso frau mujer femme mulher zhenshchina
    de du der die das des la le el o a
""")
_ITEM_SPLIT = re.compile(r"[,;|\n]+")


@dataclass(frozen=True)
class Steering:
    """What a negative prompt steers the model away from (the items, for tests and moderators)."""

    clothing: tuple[str, ...] = ()
    adulthood: tuple[str, ...] = ()
    # Items naming clothing that fell short of `clothing` (one garment: "shirt"); with a minor in the
    # prompt even one garment asked away is the trick.
    garments: tuple[str, ...] = field(default=(), compare=False)

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


def _adulthood(words: list[set[str]], canonical: list[str]) -> bool:
    meaningful = [forms for forms in words if not forms & FILLER]
    if meaningful and all(forms & ADULTHOOD for forms in meaningful):
        return True
    return any(tuple(canonical[i:i + len(p)]) == p for p in ADULTHOOD_PHRASES for i in range(len(canonical)))


def _strong(words: list[set[str]], canonical: list[str]) -> bool:
    return (any(forms & STRONG_CLOTHING for forms in words)
            or any(tuple(canonical[i:i + len(p)]) == p for p in CLOTHING_PHRASES for i in range(len(canonical))))


def steering(negative: str) -> Steering:
    """The items of `negative` that steer away from clothing or adulthood (linear in its length)."""
    clothing: list[str] = []
    strong = nudity = False
    adulthood: list[str] = []
    for item in _ITEM_SPLIT.split(negative or ""):
        if not item.strip():
            continue
        for reading in normalize(item).readings:
            words = _item_words(reading)
            canonical = [token.canonical for token in reading.tokens if not token.canonical.isdigit()]
            nudity = nudity or any(forms & NUDITY for forms in words)
            if _clothing(words, canonical):
                clothing.append(item.strip())
                strong = strong or _strong(words, canonical)
                break
            if _adulthood(words, canonical):
                adulthood.append(item.strip())
                break
    garments = () if nudity else tuple(clothing)
    if nudity or not (strong or len(clothing) >= GARMENTS_NEEDED):
        clothing = []
    return Steering(tuple(clothing), tuple(adulthood), garments)


def negative_refusal(steer: Steering, prompt_categories: frozenset[Category], kind: ChannelKind) -> Category | None:
    """The category that refuses a negative prompt that steers as `steer` says, with a prompt of
    `prompt_categories` in a channel of `kind`; None: it may be rendered."""
    if Category.MINORS in prompt_categories and steer.garments:
        return Category.SEXUAL_MINORS  # a child with even one garment asked away
    if not steer:
        return None
    if Category.MINORS in prompt_categories or steer.adulthood:
        # Away from adults asks for a younger-looking subject: refused everywhere, NSFW channels included.
        return Category.SEXUAL_MINORS
    if kind.allows_nsfw:
        return None
    return Category.SEXUAL


def negative_refusal_text(steer: Steering, category: Category, kind: ChannelKind, delivering: bool = False) -> str:
    """The member's reason: what the negative steers away from and why that is refused here (never
    the matched word)."""
    away = N_("adults (toward a younger-looking subject)") if steer.adulthood else N_("clothing")
    if category is Category.SEXUAL_MINORS and steer.adulthood:
        why = N_("which is never allowed, age-restricted channels included (it is how images of minors are asked "
                 "for)")
    elif category is Category.SEXUAL_MINORS:
        why = N_("with a minor in the prompt, which asks for sexual content involving minors, never allowed, "
                 "age-restricted channels included")
    elif kind is ChannelKind.AGE_RESTRICTED:
        why = N_("which this server's moderators have not enabled, even in age-restricted channels")
    else:
        why = N_("which this channel does not allow")
    if delivering:
        return N_("🚫 Not delivered: the negative prompt steers the image away from {away}, {why}. Nothing was "
                  "charged.", away=away, why=why)
    return N_("🚫 Your negative prompt was refused: it steers the image away from {away}, {why}. "
              "Nothing was queued or charged.", away=away, why=why)
