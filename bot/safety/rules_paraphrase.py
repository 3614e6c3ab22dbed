"""More rules for what paraphrases share (second round; rules.py holds the first and its groups).

Same form as rules.py: word groups with bounded gaps, run on the prompt's normalized words. Some
rules also need a context word anywhere in the prompt (`needs`): "face after a shotgun blast" is
graphic with "realistic" or "close up", and "she said no but he continued" is abuse in a bedroom, not
in a debate. Themes:
- clothing removal in Spanish, French, German, Portuguese and Russian (a verb of removing, then a
  garment; German's separable "zieht ... aus"), and "without clothing" in those languages;
- non-consent: a refusal ignored, force or struggle before clothes come off (also in other
  languages), hidden or spy cameras in changing rooms and showers (also in other languages);
- graphic injury without the listed words: a body after a gunshot or a machine, the insides outside,
  bodies split or opened, human body parts served as food;
- hate: a symbol of persecution (a death camp's gate, a lynching noose with the Confederate flag, a
  burning cross) with approval, the Nazis praised in other words or languages (Hitler named by his
  moustache, "father of the nation"), and Japanese nudity written with the bare kanji.
"""
from __future__ import annotations

import re

from bot.safety.rules import GROUPS, RuleHit
from bot.safety.terms import Category

S, N, G, H = Category.SEXUAL, Category.NONCONSENSUAL, Category.GORE, Category.HATE
SUG = Category.SUGGESTIVE  # harmless alone; with a minor, sexual content involving minors

MORE_GROUPS: dict[str, str] = {
    **GROUPS,
    # verbs of taking off, as the normalizer spells them (es fr pt de-less ru)
    # (a "*" at an entry's end or start: any ending or beginning, for inflections and German compounds)
    "REMOVE18": """quita* quitan* quitarle quitarse enlev* retire retirer retirant retirent ote oter otant
        arrach* tira tirar tirando tirandole arranca* despe despi* snima* snyal* sryva* sorval* razdeva*""",
    "GARMENT18": """ropa vestido blusa camisa falda bragas braga sujetador tanga bikini pantalones calzones
        culotte robe jupe chemise soutien vetements habits maillot string slip pantalon
        roupa roupas calcinha sutia saia camiseta biquini vestido
        odezhdu odezhda trusy trusiki lifchik plate bele rubashku yubku""",
    "WITHOUT18": "ohne sans sin sem bez",
    "CLOTHES18": "kleidung kleider vetements habits ropa roupa roupas odezhdy odezhda",
    "STRUGGLE": """pinning, pins, struggling, struggles, resisting, resists,
        unconscious, bewusstlos, betaubt, betaubte, inconsciente, drogada, drogado, desmayada, droguee,
        evanouie, dopada, bez soznaniya, schlaft, schlafend, schlafende, schlafenden, dormida, dormido,
        endormie, endormi, dormindo, adormecida, spyashchaya, spit""",
    "CAMERA": """spycam, spycams, spy cam, spy camera, hidden camera, hidden cameras, hidden cam, nanny cam,
        pinhole camera, creepcam, versteckte kamera, versteckter kamera, versteckten kamera, camara oculta,
        camaras ocultas, camera cachee, cameras cachees, camera escondida, cameras escondidas,
        skrytaya kamera, skrytoy kameroy""",
    "PRIVATE18": """umkleide, umkleidekabine, umkleideraum, dusche, duschen, vestuario, vestuarios, ducha,
        duchas, bano, vestiaire, vestiaires, douche, douches, *dusche, *umkleide, *kabine, toilettes,
        banheiro, chuveiro, provador, razdevalka, dush, changing room, locker room, shower, showers,
        showering, bathroom, toilet, restroom, bedroom, fitting room, fitting rooms, dressing room,
        dressing rooms, changing cubicle""",
    "NUDE18": """nude naked nackt nackte nackten nue nues desnuda desnudas desnudo desnudandose desnudandos
        nua nuas pelada peladas golaya golye undressing undresses showering sex""",
    "TARGET": """she her he him they them girl girls woman women man men boy boys lady wife sister teen teens
        neighbor neighbour neighbors neighbours roommate roommates classmate classmates coworker coworkers""",
    "UNDRESSED": """changing undressing showering shower bathing bath naked nude bathroom bedroom sleepover locker
        toilet underwear""",
    "SAIDNO": """said says saying screamed screams screaming shouts shouted shouting begged begs begging yelled
        yells yelling cries cried pleads pleaded pleading""",
    "IGNORED": """continued, continues, continuing, kept going, keeps going, anyway, ignored, ignores,
        ignoring, didnt stop, doesnt stop, did not stop, does not stop, keeps, kept, carries on, goes on,
        wont stop, would not stop""",
    "BEDCUE": """bed bedroom explicit nsfw sex sexual naked nude undressed undressing undresses sheets clothes
        clothing underwear""",
    "CAUSE": """shotgun, gunshot, gunshots, headshot, bullet, bullets, grenade, explosion, blast, point blank,
        close range, landmine, land mine, bomb, ied, suicide vest""",
    "GRAPHIC": """realistic, photoreal, photorealistic, hyperrealistic, hyperreal, aftermath, close up,
        closeup, remains, graphic, gore, gory, bloody, blood, everything visible, wounds""",
    "HUMAN": """person persons human humans man woman body bodies victim people corpse torso worker workers soldier
        pedestrian pedestrians cyclist cyclists driver drivers passenger passengers civilians pilot pilots
        firefighter firefighters officer officers child children family crew girl boy men women""",
    "INSIDES": "insides innards guts entrails organs intestines",
    "MACHINE": """press, machine, machinery, gears, grinder, shredder, conveyor, thresher, auger, wood chipper,
        meat grinder, hydraulic press""",
    "CRUSHED": "flattened pulped squashed crushed mangled pancaked",
    "FOODWAY": """on a plate, on the plate, served, platter, cooked, roasted, grilled, eaten, on a grill,
        in a pot, for dinner, on a skewer""",
    "PERSECUTION": """arbeit macht frei, concentration camp, concentration camps, death camp, death camps,
        gas chamber, gas chambers, auschwitz, treblinka, dachau, burning cross, cross burning, slave auction,
        slave auctions, lynching, lynchings, lynch mob, confederate flag, confederate flags""",
    "APPROVAL": """celebration, celebrations, celebrating, celebratory, celebrate, happy, joyful, cheerful,
        festive, smiling, good old days, glory, glorious, glorified, heroic, proud, pride, tribute,
        nostalgic, nostalgia, fun, funny, party, holiday, greeting card, souvenir, thumbs up, grinning,
        laughing, selfie""",
    "NAZI2": """nazi, nazis, nazism, neonazi, hitler, hitlers, fuhrer, third reich, waffen ss, natsist,
        natsisty, natsistskiy, natsistskaya, natsistskiye, natsistskii, natsizm, gitler, gitlera, nazista,
        nazistas, nationalsozialismus, nationalsozialist""",
    "MUSTACHE": """little mustache, little moustache, small mustache, small moustache, toothbrush mustache,
        toothbrush moustache, funny mustache, funny moustache""",
    "GERMANY": "germany german austrian austria reich 1930s 1940s ww2 wwii berlin",
    "PRAISE2": """glorious, glorified, heroic, hero, heroes, celebrating, celebration, tribute, praise,
        praising, worship, triumphant, victorious, savior, saviour, propaganda, proud, beloved,
        loving father, father of the nation, great leader, father of his people, geroy, geroi, geroem,
        geroyem, velikiy, velikii, slava, torzhestvenno, torzhestvennyy, vozhd,
        heroisch, heldenhaft, retter, erloser, vater des volkes, salvador, sauveur, salvateur, heroi, heroe,
        heroico, heroique, glorioso, gloriosa, glorieux""",
    # (not "shooter" or "bomber" alone: a basketball shooter, a bomber jacket)
    "PERPETRATOR": """school shooter, mass shooter, church shooter, mosque shooter, synagogue shooter, suicide
        bomber, terrorist, terrorists, mass murderer, christchurch shooter, breivik, tarrant, timothy mcveigh,
        dylann roof, unabomber""",
    "SAINTLY": """saint, a saint, halo, martyr, hero, heroes, heroic, legend, god, savior, saviour, icon,
        stained glass, shrine, worship, tribute, glorified, glorious""",
}

_RULES: tuple[tuple[Category, str, str | None], ...] = (
    # clothing removal in other languages; German's separable verb ("zieht sie aus", not "aus dem Haus")
    (S, r"\b{REMOVE18} (?:\w+ ){0,2}{GARMENT18}\b", None),
    (S, r"\b(?:zieht|zog|ziehen|ziehst) (?:sie|ihn|ihr|ihm|sich|ihre|ihren|ihrer|das|den|die) (?:\w+ ){0,2}aus\b"
        r"(?! (?:dem|der|den|des|einem|einer|einen|ein|eine|seinem|ihrem|meinem|dieser|diesem))", None),
    (S, r"\b{WITHOUT18} (?:\w+ ){0,2}{CLOTHES18}\b", None),
    # a covering sliding off; a top open all the way; sex named politely
    (S, r"\b(?:towel|bath towel|robe|bathrobe|sheet|bedsheet|bed sheet|blanket|duvet|sarong|kimono) (?:\w+ ){0,1}"
        r"(?:slide|slides|sliding|slid|slip|slips|slipping|slipped|fall|falls|falling|fell|drop|drops|dropping|"
        r"dropped|pulled|pushed) (?:down|off|away|open) (?:to (?:her|his|their) (?:waist|hips|knees|ankles))?", None),
    (S, r"\b(?:shirt|blouse|top|dress|robe|nightgown|pajama top|cardigan) (?:\w+ ){0,1}(?:unbuttoned|undone|open|"
        r"pulled open|ripped open) (?:all the way|completely|fully|to the waist|to her navel)\b|\b(?:her|their) "
        r"(?:\w+ ){0,1}chest (?:is )?(?:exposed|bare|uncovered)\b", r"\b(?:she|her|woman|women|girl|girls|lady)\b"),
    (S, r"\b(?:intimate|sexual|carnal|physical) relations\b|\b(?:coitus|copulating|copulation|lovemaking)\b|"
        r"\bintimate (?:act|acts|moment|moments|scene) (?:\w+ ){0,2}(?:naked|nude|bed|explicit)\b", None),
    (S, r"\bnothing (?:covering|covers|hiding|hides) (?:her|him|them|his|their)\b|\b(?:clothing|clothes|outfit|attire|"
        r"garments|wearing) (?:none|nothing|zero)\b(?! (?:of|fancy|special|formal|flashy))", None),
    (S, r"\b(?:no|not a|not one|without (?:a|any)) (?:single )?(?:fabric|stitch|thread|garment|garments|scrap of "
        r"clothing|piece of clothing) (?:on|covering)\b", r"\b(?:{TARGET}|body|bodies|model|models|person|couple)\b"),
    (S, r"\bstrategically (?:placed|covered|positioned|hidden)\b|\b(?:covered|censored) only by (?:a |an |her |his )?"
        r"\w+\b|\b(?:couple|lovers|they|two people|man and (?:a )?woman) (?:\w+ ){0,1}(?:doing it|getting it on|"
        r"going at it|bumping uglies)\b(?! (?:yourself|themselves|ourselves|right|wrong|again|better))", None),
    (S, r"\b(?:showing|shows|flashing|flashes|exposing|exposes|exposed|whipping out|pulls out|pulling out) (?:off )?"
        r"(?:his|her|their) (?:junk|family jewels|manhood|womanhood|lady parts|man parts)\b|"
        r"\b(?:his|her) (?:junk|manhood|lady parts) (?:out|exposed|showing|visible|hanging out)\b", None),
    # undressing that is harmless for an adult and sexualizes a child (counted only with a minor)
    (SUG, r"\b{REMOVE} (?:\w+ ){0,1}(?:his|her|their) (?:pants|trousers|shorts|shirt|skirt|dress|clothes|top|pajamas|"
          r"swimsuit|underwear)\b", r"\b(?:bed|bedroom|bath|bathroom|shower|alone|camera|webcam|pose|posing)\b"),
    # non-consent: a refusal ignored in a sexual setting; struggle or stupor before clothes come off
    (N, r"\b(?:she|he|they|her|him)? ?{SAIDNO} (?:no|stop)\b (?:\w+ ){0,4}{IGNORED}\b", r"\b{BEDCUE}\b"),
    (N, r"\b{STRUGGLE} (?:\w+ ){0,6}(?:{REMOVE} (?:\w+ ){0,2}(?:clothes|clothing|dress|shirt|blouse|skirt|"
        r"panties|underwear|bra)|{REMOVE18} (?:\w+ ){0,2}{GARMENT18}|(?:zieht|zog) (?:\w+ ){0,3}aus|{SEXCUE})\b", None),
    (N, r"\b(?:{REMOVE18} (?:\w+ ){0,2}{GARMENT18}|(?:zieht|zog) (?:\w+ ){0,3}aus) (?:\w+ ){0,6}{STRUGGLE}\b", None),
    # asleep or passed out, then undressed further on ("passed out on the couch while a man undresses her")
    (N, r"\b(?:sleeping|asleep|unconscious|drunk|passed out|drugged) (?:\w+ ){0,8}(?:undresses|undressing|strips|"
        r"stripping|gropes|groping|fondles|fondling|molests|touches her|touching her)\b", None),
    (N, r"\b(?:filmed|filming|recorded|recording|photographed|photographing|watched) (?:\w+ ){0,3}(?:while|as) "
        r"(?:\w+ ){0,1}(?:changing|undressing|showering|bathing|in the shower|getting changed|naked)\b",
        r"\b{TARGET}\b"),
    (N, r"\b(?:filmed|filming|recorded|photographed|watched) (?:\w+ ){0,6}(?:doesnt|does not|dont|didnt|without her|"
        r"without him|without them) (?:know|knowing|noticing|consent)\b", r"\b{UNDRESSED}\b"),
    # hidden and spy cameras where people undress, in five languages
    (N, r"\b{CAMERA} (?:\w+ ){0,6}(?:{PRIVATE18}|{NUDE18})\b", None),
    (N, r"\b(?:{PRIVATE18}|{NUDE18}) (?:\w+ ){0,6}{CAMERA}\b", None),
    (N, r"\b(?:filmed|photographed|recorded|watched|spied on) (?:\w+ ){0,2}(?:in the shower|in the bath|showering|"
        r"undressing|changing clothes|through (?:a|the) (?:crack|keyhole|peephole|gap))\b", r"\b{TARGET}\b"),
    (N, r"\bmy (?:\w+ ){0,1}(?:neighbou?r|coworker|co worker|ex|classmate|teacher|boss|colleague|stepsister|"
        r"roommate|stepmom|stepmother|aunt|cousin|tutor|babysitter|landlady|crush|girlfriend|boyfriend|wife|husband) "
        r"(?:\w+ ){0,2}(?:naked|nude|topless|undressed|undressing|with no clothes)\b", None),
    (N, r"\b(?:slipping|slips|slipped|putting|puts|dropping|drops|dropped|pouring|pours|mixing) (?:something|a pill|"
        r"pills|a powder|powder|drugs|a drug|a tablet|roofies) (?:\w+ ){0,1}(?:into|in) (?:her|his|their|a|the) "
        r"(?:\w+ ){0,1}(?:drink|glass|cocktail|wine|beer|coffee)\b", None),
    (N, r"\b(?:chained|shackled|captive|kidnapped|abducted|tied up|caged|locked up|held captive) (?:\w+ ){0,6}"
        r"(?:clothes torn|torn clothes|clothes ripped|ripped clothes|dress torn|torn dress|half naked|half dressed|"
        r"stripped|in her underwear|in underwear)\b", None),
    (N, r"\bsecret(?:ly)? (?:taken|shot|snapped|filmed|recorded|photographed|captured) (?:\w+ ){0,8}(?:changing|"
        r"undressing|showering|bathing|{PRIVATE18}|{NUDE18})\b", r"\b{TARGET}\b"),
    (N, r"\b(?:footage|video|photos?|pictures?) of (?:my |our |the )?(?:\w+ ){0,1}(?:neighbou?rs?|roommates?|"
        r"coworkers?|classmates?|colleagues?|stepsisters?|landlady|tenants?) (?:\w+ ){0,3}(?:showering|undressing|"
        r"changing|naked|nude|in the shower)\b", None),
    # graphic injury: after a gunshot or a blast; "what a train does to a person"; in a machine
    (G, r"\b(?:{HUMAN}|face|head|skull|chest) (?:\w+ ){0,3}(?:after|from|of|hit by) (?:\w+ ){0,3}{CAUSE}\b",
        r"\b{GRAPHIC}\b"),
    (G, r"\bwhat (?:a|an|the) (?:\w+ ){1,2}(?:does|did|can do|would do|do) to (?:a |an |the )?(?:human|person|"
        r"body|man|woman|face|head|people)\b", r"\b(?:aftermath|remains|realistic|photoreal\w*|close up|"
        r"graphic|gore|gory|bloody|everything visible)\b"),
    (G, r"\b{BODYPART} (?:\w+ ){0,2}caught in (?:a |an |the )?(?:\w+ ){0,1}{MACHINE}\b",
        r"\b(?:{CRUSHED}|{GRAPHIC}|severed|torn)\b"),
    (G, r"\b(?:{BODYPART}|{HUMAN}) (?:\w+ ){0,3}(?:flattened|pulped|squashed|pancaked)\b", r"\b{GRAPHIC}\b"),
    # the insides outside; a body split or opened
    (G, r"\b{INSIDES} (?:\w+ ){0,2}(?:on the outside|outside|everywhere|spilled|spilling out|all over)\b", None),
    (G, r"\binside out (?:\w+ ){0,1}{HUMAN}\b|\b{HUMAN} (?:\w+ ){0,1}(?:turned )?inside out\b", r"\b{GRAPHIC}\b"),
    (G, r"\b{HUMAN} (?:\w+ ){0,1}(?:split|cleaved|bisected|halved|sliced|sawn) (?:in half|in two|open|apart|"
        r"lengthwise)\b", None),
    (G, r"\b(?:opened|split|flayed|peeled) (?:up )?(?:torso|abdomen|belly|ribcage|chest cavity|skull|corpse)\b|"
        r"\b(?:torso|abdomen|belly|ribcage|skull) (?:\w+ ){0,1}(?:opened up|split open|peeled open)\b", None),
    (G, r"\b{HUMAN} (?:\w+ ){0,1}shot (?:\w+ ){0,1}(?:in|through) the (?:head|face|neck|eye|mouth|chest|skull)\b",
        r"\b(?:{GRAPHIC}|splatter|spatter|splattered|brains)\b"),
    # burnt or blown apart
    (G, r"\b{HUMAN} (?:\w+ ){0,2}(?:burnt|burned|charred|cooked) (?:to a crisp|to death|beyond recognition|to the "
        r"bone)\b", None),
    (G, r"\b(?:charred|melting|melted|blistering|blistered|bubbling|sloughing) (?:\w+ ){0,1}(?:skin|flesh|face|"
        r"faces)\b", r"\b(?:{GRAPHIC}|victim|victims|corpse)\b"),
    (G, r"\b{HUMAN} (?:\w+ ){0,1}(?:blown|torn|ripped) (?:apart|to pieces|to bits)\b", None),
    (G, r"\b(?:torn|ripped|blown|hacked|pulled) apart (?:\w+ ){0,1}{HUMAN}\b|\b(?:exploded|blown up) {HUMAN}\b|"
        r"\b(?:body parts|limbs|pieces of (?:a |the )?(?:body|man|woman|person)) (?:\w+ ){0,1}(?:scattered|strewn|"
        r"everywhere)\b", None),
    # human body parts as food
    (G, r"\bhuman (?:{BODYPART}|flesh|meat|organs|remains|heart|liver) (?:\w+ ){0,4}(?:{FOODWAY}|severed)\b", None),
    # (not "corpse": the band Cannibal Corpse)
    (G, r"\bcannibal\w* (?:\w+ ){0,5}(?:human|flesh|severed|remains|victims?)\b", None),
    # hate: persecution shown with approval; the Nazis praised, named or in other languages
    (H, r"\b{PERSECUTION} (?:\w+ ){0,8}{APPROVAL}\b", None),
    (H, r"\b(?:black|african|jewish|muslim|gay) (?:\w+ ){0,1}(?:man|men|person|people|slave|slaves|boy|woman|family) "
        r"(?:\w+ ){0,3}(?:in chains|chained|shackled|whipped|beaten|lynched|hanged|hanging|in a noose|burning)\b",
        r"\b{APPROVAL}|cheering|cheers|crowd cheering|laughing crowd\b"),
    (H, r"\b{APPROVAL} (?:\w+ ){0,8}{PERSECUTION}\b", None),
    (H, r"\bconfederate (?:\w+ ){0,6}nooses?\b|\bnooses? (?:\w+ ){0,6}confederate\b|\bnooses? (?:\w+ ){0,4}good old "
        r"days\b|\bgood old days (?:\w+ ){0,4}nooses?\b", None),
    (H, r"\b{NAZI2} (?:\w+ ){0,10}{PRAISE2}\b|\b{PRAISE2} (?:\w+ ){0,4}{NAZI2}\b", None),
    (H, r"\b{MUSTACHE} (?:\w+ ){0,6}{GERMANY}\b(?=.*\b{PRAISE2}\b)", None),
    (H, r"\b{PERPETRATOR} (?:\w+ ){0,4}{SAINTLY}\b|\b(?:honoring|honouring|tribute to|praising|saint) (?:\w+ ){0,3}"
        r"{PERPETRATOR}\b", None),
    (H, r"\batomwaffen (?:\w+ ){0,6}(?:{PRAISE2}|recruitment|recruiting|division|skull masks?)\b", None),
)


def group_entries(groups: dict[str, str], name: str) -> list[str]:
    """A group's words, or its comma-separated phrases when it holds commas."""
    text = groups[name]
    if "," in text:
        return [" ".join(entry.split()) for entry in text.split(",") if entry.strip()]
    return text.split()


def expand_groups(pattern: str, groups: dict[str, str]) -> str:
    """`{NAME}` in a rule's pattern -> an alternation of that group's entries (longest first); a
    leading or trailing `*` on an entry lets the word go on that side. Also used by rules_round3."""
    def group(match: re.Match) -> str:
        words = sorted(set(group_entries(groups, match.group(1))), key=len, reverse=True)
        return "(?:" + "|".join(re.escape(w.strip("*")).join(
            ("\\w*" if w.startswith("*") else "", "\\w*" if w.endswith("*") else "")) for w in words) + ")"
    return re.sub(r"\{([A-Z0-9]+)\}", group, pattern)


def _expand(pattern: str) -> str:
    return expand_groups(pattern, MORE_GROUPS)


RULES: tuple[tuple[Category, re.Pattern, re.Pattern | None], ...] = tuple(
    (category, re.compile(_expand(pattern)), re.compile(_expand(needs)) if needs else None)
    for category, pattern, needs in _RULES)
# Japanese nudity with the bare kanji: 裸 unless it is barefoot (裸足), the naked eye (裸眼), a bare
# bulb or wire (裸電球, 裸線), a gymnosperm (裸子), rye (裸麦) or "frank" (赤裸々).
CJK_NUDE = re.compile(r"(?<!赤)裸(?![足眼子麦電線々])")


def match_more(words: str) -> list[RuleHit]:
    """Every rule of this module that matches `words` (lowercase ASCII words, single-spaced)."""
    hits = []
    for index, (category, pattern, needs) in enumerate(RULES):
        found = pattern.search(words)
        if found is not None and (needs is None or needs.search(words)):
            hits.append(RuleHit(category, f"rule p{index}: {found.group(0)}"))
    return hits


# The Nazis or Hitler with a word of praise, in Japanese.
_JA_NAZI = "(?:ナチ|ヒトラー|ヒットラー|総統|鉤十字|ハーケンクロイツ)"
_JA_PRAISE = "(?:英雄|万歳|讃え|称え|栄光|偉大|救世主|賛美)"
CJK_NAZI = re.compile(f"{_JA_NAZI}.*{_JA_PRAISE}|{_JA_PRAISE}.*{_JA_NAZI}")


# Nude pictures of someone named by first and last name (written capitalized): a real person undressed.
REAL_PERSON_NUDES = re.compile(r"\b(?:[Nn]ude|[Nn]aked|[Tt]opless|[Ll]eaked nude|[Ss]ex)\s+(?:[a-z]+\s+){0,1}"
                               r"(?:photos?|pics?|pictures?|images?|videos?|selfies?|tape|shots?)\s+of\s+"
                               r"(?:[A-Z][a-z]+\s+){1,2}[A-Z][a-z]+")


def match_raw(text: str) -> list[RuleHit]:
    """The rules read off the prompt as written: Japanese (no spaces between words) and names (capitals)."""
    hits = [RuleHit(N, "rule p-name: nude pictures of a named person")] if REAL_PERSON_NUDES.search(text) else []
    if text.isascii():
        return hits
    hits += [RuleHit(S, "裸")] if CJK_NUDE.search(text) else []
    return hits + ([RuleHit(H, "nazi praise (ja)")] if CJK_NAZI.search(text) else [])
