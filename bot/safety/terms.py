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
    Category.SEXUAL: "sexual content or nudity",
    Category.MINORS: "content involving minors",
    Category.SUGGESTIVE: "suggestive content",
    Category.SEXUAL_MINORS: "sexual content involving minors",
    Category.NONCONSENSUAL: "non-consensual or abusive sexual content",
    Category.GORE: "extreme violence or gore",
    Category.HATE: "hateful content",
    Category.CUSTOM: "a term this server's moderators blocked",
    Category.UNCHECKED: "an image the safety check could not verify",
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
        cameltoe sexting horny aroused seminude
    """),
    Category.MINORS: _words("""
        child children childs childlike kid kids kiddie kiddies toddler toddlers infant infants baby
        babies preteen preteens tween tweens teen teens teenage teenaged teenager teenagers underage
        minor minors loli lolis lolita lolicon shota shotacon jailbait schoolgirl schoolgirls
        schoolboy schoolboys pubescent prepubescent boy boys juvenile juveniles youngster
        youngsters kindergarten kindergartener grader graders
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
        "school girls", "school boy", "pre teen", "jail bait",
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

# Benign phrases that contain flagged words: the words they cover are not matched. They are
# matched like terms (after normalization), so "great t1ts" is still the bird.
ALLOW: frozenset[tuple[str, ...]] = _phrases(
    # birds
    "great tit", "great tits", "blue tit", "blue tits", "coal tit", "coal tits", "marsh tit",
    "willow tit", "crested tit", "long tailed tit", "tit bird", "tit birds", "footed booby",
    "footed boobies", "booby bird", "booby trap", "booby traps", "booby prize",
    # food, sport, anatomy and medicine
    "breast stroke", "chicken breast", "chicken breasts", "duck breast", "turkey breast",
    "breast cancer", "chimney breast",
    # "naked" and "nude" that are not about people
    "naked mole rat", "naked mole rats", "naked eye", "naked flame", "naked truth", "naked tree",
    "naked trees", "naked branches", "naked lunch", "naked gun",
    "nude lipstick", "nude lip", "nude lips", "nude color", "nude colour", "nude colored",
    "nude coloured", "nude heels", "nude shoes", "nude pumps", "nude tones", "nude tone",
    "nude palette", "nude beige", "nude nail", "nude nails", "nude makeup", "nude eyeshadow",
    # names, titles and idioms
    "sex pistols", "sex and the city", "sexual dimorphism", "sexual selection", "moby dick",
    "dick tracy", "philip k dick", "dick van dyke", "cock crowing", "cock crows", "cock crowed",
    "weather cock", "cock a doodle doo", "pussy cat", "pussy cats", "pussy willow",
    "pussy willows", "cum laude", "paint stripper", "wire stripper", "spic and span", "chink in",
    "chinks in", "al gore", "gore tex", "gore vidal", "topless car", "topless convertible",
    "topless roadster", "topless bus", "horny toad", "horny toads", "suicide squad",
    "suicide prevention", "rape of the sabine", "rape of proserpina",
    "rape of europa", "rape of the lock", "rape seed", "oilseed rape",
    # words that only count as minor terms with a sexual one
    "baby oil", "baby doll", "baby blue", "baby pink", "baby shower", "baby grand", "kid gloves",
    "karate kid", "minor key", "minor chord", "minor league", "minor details",
    "minor imperfections", "asia minor", "ursa minor",
)

# Ages under 18 written as words ("fifteen year old").
NUMBER_WORDS: dict[str, int] = {
    word: value for value, word in enumerate(
        ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
         "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen"))
}
ADULT_AGE = 18
