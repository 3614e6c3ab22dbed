"""The built-in categorized terms and the allowlist of benign phrases that contain flagged words.

Entries are written in the normalizer's output alphabet (lowercase ASCII, see normalize.py), so a
term matches every spelling that normalizes to it: "NUDE", "n.u.d.e", "ｎｕｄｅ", "nüde", "n00de".
Matching is per word (never inside another word: "Scunthorpe", "cocktail", "analysis" and
"therapist" contain nothing), so inflections are listed; a few unambiguous stems in PREFIXES also
match longer words ("pornographic", "masturbating").

Category decisions (README "Content safety" has the table):
- MINORS alone is never refused ("a child flying a kite"); with SEXUAL it becomes SEXUAL_MINORS,
  refused everywhere, and so it does with SUGGESTIVE ("sexy", "lingerie", "seductive": harmless
  alone, never with a minor term or an age under 18). "girl" is not a minor term (it is used for
  adult women all the time); "little girl", "young girl", "schoolgirl", "teen" and any age under
  18 are.
- "nude" and "naked" mean nudity, including in an art-history context ("a classical nude", "nude
  figure study"): refused in SFW channels, allowed in age-restricted channels of servers that
  enabled NSFW. Art terms that do not ask for nudity ("figure drawing", "Renaissance fresco",
  "chiaroscuro") are fine everywhere, and "nude" as a colour is allowlisted ("nude lipstick").
- HATE (slurs, hate symbols and slogans) and NONCONSENSUAL (rape, sexual assault, bestiality) are
  refused everywhere, age-restricted channels included; SEXUAL and GORE only outside them.
"""
from __future__ import annotations

import enum

from bot.i18n import N_


class Category(str, enum.Enum):
    SEXUAL = "sexual"
    MINORS = "minors"  # only ever refused together with SEXUAL or SUGGESTIVE (as SEXUAL_MINORS)
    # Harmless alone ("sexy red sports car", "a lingerie boutique"), never refused by itself; with a
    # minor term or an age under 18 it sexualizes a child and becomes SEXUAL_MINORS.
    SUGGESTIVE = "suggestive"
    SEXUAL_MINORS = "sexual-minors"
    NONCONSENSUAL = "nonconsensual"
    GORE = "gore"
    HATE = "hate"
    CUSTOM = "custom"  # a term this server's moderators blocked
    UNCHECKED = "unchecked"  # an image the checker could not score (withheld: fail closed)

    @property
    def label(self) -> str:
        """How a refusal names the category (never the matched word)."""
        return _LABELS[self]


_LABELS = {
    Category.SEXUAL: N_("sexual content or nudity"),
    Category.MINORS: N_("content involving minors"),
    Category.SUGGESTIVE: N_("suggestive content"),
    Category.SEXUAL_MINORS: N_("sexual content involving minors"),
    Category.NONCONSENSUAL: N_("non-consensual or abusive sexual content"),
    Category.GORE: N_("extreme violence or gore"),
    Category.HATE: N_("hateful content"),
    Category.CUSTOM: N_("a term this server's moderators blocked"),
    Category.UNCHECKED: N_("an image the safety check could not verify"),
}


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _phrases(*phrases: str) -> frozenset[tuple[str, ...]]:
    return frozenset(tuple(p.split()) for p in phrases)


WORDS: dict[Category, frozenset[str]] = {
    Category.SEXUAL: _words("""
        nude nudes nudity nudist nudists naked nakedness topless bottomless undressed unclothed
        nsfw porn porno pornstar xxx xrated sex sexual sexually intercourse erotic erotica eroticism
        lewd hentai ecchi smut smutty orgy orgies gangbang threesome foursome milf onlyfans
        cum cumshot creampie blowjob blowjobs handjob footjob titjob boobjob fellatio cunnilingus
        anal nipple nipples areola areolas areolae genital genitals genitalia penis penises phallus
        vagina vaginas vulva vulvas clitoris labia testicles scrotum pubic
        dick dicks cock cocks pussy pussies cunt tits titties titty boobs boobies breasts
        butthole dildo dildos bdsm bondage fetish stripper strippers striptease upskirt downblouse
        cameltoe sexting horny aroused seminude fuck fucks fucked fucking explicit
        nood noods nudez nekkid nekid nakie nakey
    """),
    Category.MINORS: _words("""
        child children childs childlike kid kids kiddie kiddies toddler toddlers infant infants baby
        babies preteen preteens tween tweens teen teens teenage teenaged teenager teenagers underage
        minor minors loli lolis lolita lolicon shota shotacon jailbait schoolgirl schoolgirls
        schoolboy schoolboys pubescent prepubescent boy boys juvenile juveniles youngster
        youngsters kindergarten kindergartener kindergartner preschooler preschoolers grader graders
        adolescent adolescents daughter daughters stepdaughter stepdaughters niece nieces puberty
        schooler schoolers
    """),
    Category.SUGGESTIVE: _words("""
        sexy sexier sexiest seductive seductively seduce seduces seducing seduction sensual sensually
        sultry provocative provocatively lingerie panties panty thong thongs bra bras underwear
        busty voluptuous lust lustful flirty flirting flirtatious kinky naughty slutty slut sluts
        skimpy
    """),
    Category.SEXUAL_MINORS: _words("pedo pedos paedo csam"),
    Category.NONCONSENSUAL: _words("""
        rape raped rapes raping rapist rapists noncon nonconsensual bestiality beastiality zoophilia
    """),
    Category.GORE: _words("""
        gore gory guro goreporn decapitated decapitation beheaded beheading dismembered
        entrails flayed flaying impaled torture tortured torturing snuff bloodbath selfharm
        suicide
    """),
    Category.HATE: _words("""
        nigger niggers nigga niggas sandnigger faggot faggots kike kikes spic spics chink
        chinks gook gooks wetback wetbacks raghead ragheads towelhead towelheads tranny trannies
        retard retards kkk 1488
    """),
}

# Word starts that only ever begin flagged words (no benign English word starts with them).
PREFIXES: dict[str, Category] = {
    "porn": Category.SEXUAL,
    "hentai": Category.SEXUAL,
    "masturbat": Category.SEXUAL,
    "orgasm": Category.SEXUAL,
    "erotic": Category.SEXUAL,
    "ejaculat": Category.SEXUAL,
    "fellat": Category.SEXUAL,
    "cunniling": Category.SEXUAL,
    "pedophil": Category.SEXUAL_MINORS,
    "paedophil": Category.SEXUAL_MINORS,
    "molest": Category.NONCONSENSUAL,
    "disembowel": Category.GORE,
    "eviscerat": Category.GORE,
    "mutilat": Category.GORE,
    "dismember": Category.GORE,
    "decapitat": Category.GORE,
}

PHRASES: dict[Category, frozenset[tuple[str, ...]]] = {
    Category.SEXUAL: _phrases(
        "oral sex", "blow job", "hand job", "no clothes", "without clothes", "without clothing",
        "no clothing", "wearing nothing", "birthday suit", "spread legs", "legs spread", "sex act",
        "sex scene", "having sex", "making love", "make love", "camel toe", "x rated", "only fans",
        "explicit content", "adult content", "bare breast", "exposed breast", "nip slip",
        "pubic hair", "see through clothes",
    ),
    Category.MINORS: _phrases(
        "little girl", "little girls", "young girl", "young girls", "little boy", "little boys",
        "young boy", "young boys", "young looking", "elementary school", "middle school",
        "junior high", "grade school", "high school", "under age", "under 18", "school girl",
        "school girls", "school boy", "pre teen", "jail bait", "bar mitzvah", "bat mitzvah",
        "first communion", "sweet sixteen", "primary school", "preschool", "day care", "grade schooler",
        "elementary schooler", "hit puberty", "before puberty", "child like", "kid like",
    ),
    Category.NONCONSENSUAL: _phrases(
        "non consensual", "forced sex", "sexual assault", "sexually assaulted",
    ),
    Category.GORE: _phrases(
        "severed head", "severed heads", "severed limb", "severed limbs", "spilled guts",
        "guts spilling", "spilling guts", "skinned alive", "burned alive", "burnt alive",
        "slit throat", "throat slit", "slit wrists", "slit wrist", "self harm", "blood bath",
        "mangled corpse", "mangled body", "exposed organs", "brain matter", "snuff film",
        "gouged eyes", "eyes gouged out",
    ),
    Category.HATE: _phrases(
        "heil hitler", "sieg heil", "nazi flag", "nazi salute", "swastika flag", "white power",
        "white supremacy", "white supremacist", "white supremacists", "ku klux klan",
        "gas the jews", "ethnic cleansing", "porch monkey", "sand nigger", "lynching",
    ),
}

# The allowlist: flagged words in a clearly benign sense, as rules of (word, the words that mark that
# sense right before it, right after it). A sense is a class ("nude" before any word of colour,
# cosmetics or footwear; "breast" after any animal or before a medical word), not a phrase copied
# from a test: "nude sandals" and "pheasant breast" are benign because the class is. The words they
# cover are not matched (PROTECTED categories excepted, see prompt_filter.py), and they are matched
# like terms (after normalization), so "great t1ts" is still the bird.
_BIRDS = "great blue coal marsh willow crested tailed bearded penduline sombre azure varied"
_FOODS = "chicken duck turkey goose pheasant quail pigeon lamb veal grilled roasted roast smoked"
_COLOUR_USES = """lipstick lip lips gloss color colour colored coloured colors colours tone tones shade shades
    hue hues palette beige pink brown heels heel shoes shoe pumps sandals flats boots loafers nail nails
    polish makeup eyeshadow blush foundation concealer stockings tights paint walls wall fabric leather
    bag handbag trench blazer sweater cardigan couleur farbe cor robe robes"""
_SENSES: tuple[tuple[str, str, str], ...] = (
    # (flagged words, words before that make the sense benign, words after)
    ("tit tits", _BIRDS, "bird birds nest nests feeder feeding family chick chicks egg eggs"),
    ("booby boobies", "footed masked brown red", "bird birds trap traps prize"),
    ("breast breasts", _FOODS + " chimney robin", "stroke cancer milk pump pumps feeding fillet fillets meat plate "
     "pocket examination exam screening awareness surgeon"),
    ("naked", "", "eye eyes flame flames truth mole singularity lunch gun wire bulb bulbs blade steel ambition "
     "aggression branch branches tree trees twig twigs hillside hillsides rock"),
    # food served plain, and the cook of the TV series named after that
    ("naked", "", "cake cakes burrito burritos bowl bowls wings salad juice juices chef"),
    # a shape, not a body: "a penis-shaped cactus", "a boob-shaped cake"
    ("penis penises dick boob boobs breast breasts", "", "shaped"),
    # asked away from: "no gore", "without nudity", "gore-free"
    ("gore gory nudity nsfw", "no without non zero", "free"),
    ("nude", "", _COLOUR_USES),
    ("cock cocks", "weather game fighting", "crowing crows crowed crow fight fights fighting a doodle pheasant "
     "pheasants grouse partridge sparrow robin blackbird bird birds"),
    ("pussy", "", "willow willows cat cats"),
    ("cum", "", "laude"),
    ("stripper strippers", "paint wire varnish wallpaper floor", ""),
    ("chink chinks", "", "in"),
    ("topless", "", "car cars convertible convertibles roadster bus buses jeep vehicle"),
    ("horny", "", "toad toads lizard lizards beetle beetles"),
    ("suicide", "", "prevention hotline awareness squad"),
    ("rape", "oilseed", "seed seeds field fields flowers plant plants oil"),
    ("sex sexual", "", "pistols chromosome chromosomes determination ratio cells dimorphism selection "
     "reproduction education ed educator health"),
    ("gore", "al", "tex vidal verbinski"),
    ("dick", "moby philip k spotted", "van tracy"),
    # words that are minor terms only in another sense (they count only together with a sexual one)
    ("baby", "", "oil doll blue pink shower grand bump monitor food carrot carrots spinach corn"),
    ("kid kids", "karate", "gloves leather goat goats"),
    ("minor", "asia ursa", "key chord league leagues detail details imperfections scale scales planet "
     "planets injury injuries"),
)


def _senses() -> frozenset[tuple[str, ...]]:
    phrases: set[tuple[str, ...]] = set()
    for words, before, after in _SENSES:
        for word in words.split():
            phrases.update((b, word) for b in before.split())
            phrases.update((word, a) for a in after.split())
    return frozenset(phrases)


ALLOW: frozenset[tuple[str, ...]] = _senses() | _phrases(
    # titles of works of art whose names hold a flagged word (art history, not a test's phrases)
    "rape of the sabine women", "rape of proserpina", "rape of europa", "rape of lucretia",
    "rape of the lock", "naked mole rat", "naked mole rats", "cock a doodle doo",
)

# Senses set by the whole prompt: a flagged word is in its benign sense when the prompt also holds a
# word of that sense's field ("cock" in a prompt about a farm or a rooster is the bird). Only for
# words that are not PROTECTED, so a context word never lifts a minor, hate or non-consent term.
_BIRD_FIELD = """bird birds songbird songbirds feeder feathers feathered nest nesting ornithology wildlife
    aviary perched perching plumage beak wings chick chicks species pheasant pheasants grouse partridge"""
CONTEXT_SENSES: dict[str, frozenset[str]] = {
    word: frozenset(field.split()) for words, field in (
        ("cock cocks", "rooster roosters hen hens chicken chickens farm farmyard poultry crowing crow "
         "barnyard coop " + _BIRD_FIELD),
        ("tit tits booby boobies", _BIRD_FIELD + " galapagos seabird seabirds"),
        ("pussy", "cat cats kitten kittens kitty meow whiskers purring willow"),
        ("breast breasts", "recipe cooking cooked grilled roasted plate dinner meal kitchen chef oven "
         "fillet swimming swimmer pool butterfly cancer mammogram"),
        # "nude" the colour and "naked" the bare thing, in a prompt about things (see PERSON_WORDS)
        ("nude", _COLOUR_USES + " toned tonal neutral fashion cosmetics flatlay flat lay product catalogue "
         "ballet mannequin swatch swatches dress gown illusion tulle chiffon mesh runway carpet"),
        ("naked nackte nackt", "tree trees branch branches wall walls wand wande baume eye flame flames bulb "
         "bulbs blade wire concrete brick bricks hillside rock rocks singularity winter landscape"),
    ) for word in words.split()
}
# Gore that is make-believe: a prop, a costume, make-up. Never with a word asking for it to look real.
FAKE_GORE_CONTEXT = _words("""prop props costume costumes halloween decoration decorations toy toys plastic rubber
    makeup tutorial fake haunted""")
REALISM = _words("realistic photorealistic real hyperrealistic actual graphic")
# A context sense never applies when the prompt is about a person ("nude woman in heels").
PERSON_WORDS = _words("""woman women man men girl girls boy boys lady person people model models she her
    he him his body bodies couple frau mann mujer femme homme mulher child kid kids teen figure""")
CONTEXT_NEEDS_NO_PERSON = frozenset({"nude", "naked", "nackte", "nackt"})

# Ages under 18 written as words ("fifteen year old").
NUMBER_WORDS: dict[str, int] = {
    word: value for value, word in enumerate(
        ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
         "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"))
}
ADULT_AGE = 18
