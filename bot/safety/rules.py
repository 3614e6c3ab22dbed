"""The rules layer: what paraphrases of unsafe prompts share, as patterns over word groups.

A word list knows "nude"; it does not know "her dress slipping off her shoulders to the floor" or
"intestines spilling out". Each rule is a pattern of word groups with a bounded gap of other words
between them ("{REMOVE} ~3 {GARMENT}": a verb of removing, then within three words a garment), run on
the prompt's words after normalization (leet, spacing, look-alikes) and typo correction against the
groups' own words. Rules (see RULES for the full list):
- clothing removal and exposure: removing garments, garments falling or missing, a body part bared
  or visible, see-through garments, euphemisms for nakedness;
- non-consent: force, drugs, sleep or unconsciousness next to a sexual cue or clothing removal;
- bodily cues: harmless for an adult, but with a minor (a minor term, an age under 18 or a school
  grade, found by the terms layer) they make SEXUAL_MINORS (see `minor_cues`);
- graphic injury: organs exposed or spilling, body parts torn off, flesh torn, skulls crushed;
- hate symbols and glorification: the symbols by name (a swastika unless in its Hindu, Buddhist or
  Jain sense), the Nazis and Hitler praised, genocide celebrated or denied, groups called vermin.
Japanese terms are matched as substrings of the prompt's own text (terms_i18n.CJK).
Cost: one regex search per rule over a string of at most a few hundred words; linear, no nesting.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.safety.terms import Category
from bot.safety.terms_i18n import CJK

# Word groups: `{NAME}` in a rule stands for any of its words.
GROUPS: dict[str, str] = {
    "REMOVE": """take takes taking took taken remove removes removing removed strip strips stripping
        stripped pull pulls pulling pulled peel peels peeling peeled slip slips slipping slipped drop drops
        dropping dropped shed sheds shedding lift lifts lifting lifted unbutton unbuttons unbuttoning
        unbuttoned unzip unzips unzipping unzipped undo undoing tear tears tearing tore torn rip rips
        ripping ripped lose loses losing lost lower lowers lowering lowered yank yanking yanked unhook
        unhooks unhooking unhooked unclasp unclasps unclasping unclasped unfasten unfastening unfastened""",
    "AWAY": "off down away open aside",
    "GARMENT": """clothes clothing garments garment dress dresses shirt shirts blouse blouses top tops bra
        bras bikini bikinis swimsuit swimsuits panties panty underwear knickers briefs boxers lingerie
        towel towels skirt skirts pants trousers jeans shorts robe robes gown gowns nightgown nightie
        leotard outfit outfits uniform uniforms costume costumes attire tunic toga kimono corset thong
        thongs stockings tights""",
    "INTIMATE": """bra bras bikini bikinis panties panty underwear knickers briefs boxers lingerie thong
        thongs clothes clothing cloths garments everything""",
    "FALL": "falls fall falling fell fallen slides slide sliding slid drops dropped dropping gone missing",
    "NOTHING": "nothing",
    "BARE": """bare bared baring exposed exposing expose exposes uncovered uncovering visible showing
        revealing reveals revealed flashing flashes flash""",
    "PRIVATE": """breasts breast boobs nipples nipple genitals crotch groin buttocks butt privates vulva
        vagina penis pubic bum""",
    "SHEERWEAR": """shirt top blouse dress nightgown nightie gown bra panties underwear lingerie
        swimsuit bikini tshirt leotard clothes clothing""",
    "SEXCUE": """sex sexual sexually naked nude nudity undress undressed undressing undresses strip
        stripped stripping topless intercourse erotic fondle fondled fondling grope groped groping
        groping molested aroused orgasm lingerie panties porn despida desnudada desnuda deshabillee
        ausgezogen nackt nue lewd deshabiller deshabillee ausziehen desnudarse despir""",
    "FORCE": """forced forcing forcibly coerced coercing drugged drugging unconscious restrained
        overpowered overpowering unwilling unwillingly blackmailed blackmailing hypnotized hypnotised
        kidnapped chloroform chloroformed spiked sedated drogada drogado droguee drogue betaubt
        narcotizada inconsciente bewusstlos betaubte betaubter forcee forcees forzada forzado gezwungen
        obligee abducted captive captives captors captor hostage hostages
        enslaved slave pinned""",
    "BODYCUE": """bikini lingerie underwear panties bra bras thong thongs thighs buttocks butt cleavage cp
        nu nus nua nue stripping strips stripped
        shower showering shirtless
        undress undressing undressed seductive seductively sensual sexy sultry suggestive provocative
        provocatively alluring curvy naked nude nudity oiled spread spreading erotic lewd nsfw
        topless boudoir""",
    "ORGANS": """intestines intestine guts bowels organs viscera innards entrails brains brain""",
    "SPILL": """spilling spill spilled spills spilt hanging dangling exposed pouring oozing ripped torn
        bursting protruding gushing splattered spattered strewn""",
    "BODYPART": """arm arms leg legs head heads limb limbs hand hands foot feet face faces jaw fingers
        finger torso body bodies skin flesh scalp eye eyes ear ears throat belly stomach chest""",
    "SEVER": """ripped torn hacked chopped cut sawed sawn blown sliced severed tearing ripping hacking
        chopping cutting sawing slicing""",
    "APART": "off apart open in half into pieces",
    "CORPSE": "corpse corpses body bodies cadaver cadavers",
    "MANGLED": """mangled mutilated butchered eviscerated disfigured dismembered flayed skinned gutted
        charred burned burnt decomposing""",
    "NAZI": """nazi nazis nazism nazismo nazisme nazista nazistas neonazi wehrmacht hitler hitlers fuhrer
        reich waffen ss natsist natsisty natsizm gitler""",
    "PRAISE": """glorious glorifying glorify glorified heroic hero heroes celebrating celebrate
        celebration honoring honouring honor honour tribute praising praise worship worshipping
        triumphant victorious saviour savior propaganda recruitment rally idolizing admiring proud
        proudly gloire glorieux glorieuse gloria glorioso gloriosa heroico heroica heroique heroi
        heroes heldenhaft helden ruhm ruhmreich homenaje hommage ehren slava geroi geroicheskii""",
    "GROUP": """jews muslims blacks africans arabs mexicans immigrants gays lesbians asians gypsies
        refugees hindus christians juden juifs judios judeus evrei muslime musulmans musulmanes muculmanos
        negros noirs schwarze ciganos gitanos zigeuner auslander etrangers inmigrantes imigrantes migranten
        migrants fluchtlinge refugies""",
    "GROUPADJ": "jewish black gay trans transgender muslim arab roma asian african mexican",
    "PEOPLE": "people person persons men women folk man woman",
    "VERMIN": """vermin rats rat cockroaches roaches parasites subhuman subhumans apes ape monkeys monkey
        animals savages filth plague disease dogs pigs insects monsters demons beasts terrorists
        criminals rapists thieves invaders gorillas gorilla baboons baboon chimps chimpanzees orangutans
        locusts ratten ratas ratos krysy ungeziefer vermine alimanas parasiten parasitos parasity affen
        singes monos macacos obezyany tiere animaux animales bestien cafards kakerlaken cucarachas baratas""",
    "KILLALL": "exterminate exterminated exterminating gassed gas genocide kill killed eradicate purge",
}

_RULES: tuple[tuple[Category, str], ...] = (
    # clothing removal and exposure
    (Category.SEXUAL, r"\b{REMOVE} (?:\w+ ){0,2}(?:her|his|their|all|of|the|any|every|last) (?:\w+ ){0,2}{INTIMATE}\b"),
    (Category.SEXUAL, r"\b{REMOVE} (?:\w+ ){0,2}(?:her|their) (?:\w+ ){0,2}{GARMENT} (?:\w+ ){0,1}{AWAY}\b"),
    (Category.SEXUAL, r"\b{REMOVE} (?:off|down) (?:her|their) {GARMENT}\b"),
    (Category.SEXUAL, r"\b(?:her|their) (?:\w+ ){0,2}{GARMENT} (?:\w+ ){0,1}{FALL}\b"),
    (Category.SEXUAL, r"\b(?:towel|robe|sheet|blanket) (?:\w+ ){0,1}(?:slipping|slips|slipped|falling|falls|"
                      r"fell|dropping|"
                      r"dropped|drops) (?:off|down|away|to the floor)\b"),
    (Category.SEXUAL, r"\b(?:last piece of clothing|{INTIMATE}) (?:\w+ ){0,2}(?:fully |completely |all )?(?:off|"
                      r"removed|"
                      r"stripped|gone|coming off|on the floor)\b"),
    (Category.SEXUAL, r"\b(?:wearing|wears|wore|in|has|with) (?:absolutely |only |just )?nothing(?: at all| on|"
                      r" but (?:a |her "
                      r"|his )?(?:smile|towel|socks|stockings|heels|jewelry|necklace|body paint|shadows|tattoos))"),
    (Category.SEXUAL, r"\b(?:not|isnt|without|no|never) (?:wearing |wear |having |got |with )?(?:anything on|"
                      r"any clothes|"
                      r"any clothing|a stitch|a thread|her clothes|underwear|panties|a bra|bra|clothes on)\b"),
    (Category.SEXUAL, r"\b{BARE} (?:\w+ ){0,2}{PRIVATE}\b(?! (?:cancer|stroke|milk|pump|feeding|plate|meat|fillet))"),
    (Category.SEXUAL, r"\b{PRIVATE} (?:are |is |fully |clearly )?(?:exposed|visible|uncovered|showing|bared|out)\b"),
    (Category.SEXUAL, r"\b(?:his|her|their|[a-z]+ s) (?:bare|naked|exposed|uncovered) "
                      r"(?:bottom|backside|behind|ass|rear|butt|buttocks|cheeks)\b"),
    (Category.SEXUAL, r"\b(?:see through|seethrough|sheer|transparent|wet) (?:\w+ ){0,1}(?:her |"
                      r"their )?(?:shirt|top|blouse|dress|"
                      r"nightgown|bra|panties|underwear|lingerie|clothes|clothing|leotard|"
                      r"swimsuit)\b(?:.*\b(?:nipples?|"
                      r"breasts?|nothing underneath|no bra|no underwear|naked|nude|body))?"),
    (Category.SEXUAL, r"\b(?:see|seeing|looking) (?:\w+ ){0,1}through (?:her |their |his )?(?:clothes|clothing|"
                      r"dress|shirt)\b"),
    (Category.SEXUAL, r"\b(?:in the buff|au naturel|full frontal|in the altogether|state of nature|as god made|"
                      r"as nature intended|skinny dipping|wardrobe malfunction|birthday suit|no modesty|"
                      r"no panties|braless|completely bare|totally bare|fully bare|exposing everything|"
                      r"unclothed|disrobed|disrobing|undressing|undresses|undressed|doing the deed|full nudity|"
                      r"nothing left to the imagination|uncensored|ahegao|strip tease|pole dance naked)\b"),
    (Category.SEXUAL, r"\b(?:spread|spreading) (?:her |his |their )?(?:legs|thighs|cheeks|pussy|lips)\b|"
                      r"\blegs apart\b"),
    (Category.SEXUAL, r"\b(?:lifting|lifts|lifted|lift|pulling up|pulls up|pulled up|hiking up|hikes up|"
                      r"raising) (?:up )?"
                      r"(?:her|their) (?:\w+ ){0,1}(?:shirt|top|skirt|dress|blouse|tshirt|sweater|nightgown)\b"),
    (Category.SEXUAL, r"\b(?:flash|flashes|flashing|flashed) (?:her|his|their) (?:\w+ ){0,1}(?:chest|body|"
                      r"breasts?|boobs|"
                      r"tits|butt|crotch)\b|\b(?:her|their) bare chest\b"),
    (Category.SEXUAL, r"\b{INTIMATE} (?:\w+ ){0,1}(?:around|round|at) (?:her|his|their) (?:ankles|knees|thighs)\b"),
    (Category.SEXUAL, r"\b(?:slipping|slips|slipped|slip|stepping|steps|stepped|wriggling|wriggles|shimmying|peeling "
                      r"herself) out of (?:her|their) (?:\w+ ){0,1}{GARMENT}\b"),
    (Category.SEXUAL, r"\b(?:with|has|had|having) (?:(?:her|their) (?:\w+ ){0,1}{GARMENT}|"
                      r"(?:his|her|their) (?:\w+ ){0,1}{INTIMATE}) (?:off|removed|pulled down|undone|open|gone)\b"),
    (Category.SEXUAL, r"\b(?:naughty|private|intimate|nether) (?:bits|parts|regions|areas)\b|\bprivates\b"),
    (Category.SEXUAL, r"\b(?:drop|drops|dropping|dropped) (?:her|his|their) (?:pants|trousers|jeans|shorts|skirt|dress|"
                      r"towel|robe|kimono)\b"),
    (Category.SEXUAL, r"\b(?:strip|strips|stripping|stripped|undress\w*) (?:down |off )?(?:to|until) (?:absolutely )?"
                      r"(?:nothing|(?:her|his|their) (?:skin|birthday suit|bare skin))\b"),
    (Category.SEXUAL, r"\b(?:wearing|in|wears) (?:only|just) (?:\w+ ){1,4}nothing else\b|\bnothing else on\b"),
    (Category.SEXUAL, r"\b(?:sucking|licking|stroking|riding|fingering) (?:his|her|a|the) (?:cock|dick|shaft|member|"
                      r"nipples?|clit|pussy|penis)\b"),
    # non-consent
    (Category.NONCONSENSUAL, r"\b(?:against (?:her|his|their) will|without (?:her|his|their) consent|"
                             r"without consent|forced himself|forces himself|forcing himself|taken advantage of|"
                             r"took advantage of|taking advantage of|sex slave|date rape|revenge porn|creepshot|"
                             r"creep shot|spy cam|peeping tom|upskirt|deepfake nude|deepfake porn|"
                             r"crying and resisting|"
                             r"(?:nudes?|naked|porn|sex tape|"
                             r"explicit)(?: \w+){0,2} of my (?:\w+ ){0,1}(?:coworker|ex|classmate|"
                             r"neighbou?r|teacher|boss|friend|sister|girlfriend|wife|crush|colleague|stepsister|"
                             r"roommate))\b"),
    (Category.NONCONSENSUAL, r"\b{FORCE} (?:\w+ ){0,5}(?:{SEXCUE}|{REMOVE} (?:\w+ ){0,2}(?:clothes|clothing))\b"),
    (Category.NONCONSENSUAL, r"\b(?:{SEXCUE}|{REMOVE} (?:\w+ ){0,2}(?:clothes|"
                             r"clothing)) (?:\w+ ){0,5}(?:{FORCE}|asleep|"
                             r"sleeping|held down|pinned down|struggling|screaming|at gunpoint|at knifepoint)\b"),
    (Category.NONCONSENSUAL, r"\b(?:sleeping|asleep|unconscious|drunk|passed out) (?:\w+ ){0,5}(?:{SEXCUE}|"
                             r"{REMOVE})\b"),
    (Category.NONCONSENSUAL, r"\b(?:drunk|unconscious|passed out|drugged|sleeping|asleep|intoxicated) (?:\w+ ){0,1}"
                             r"(?:being|getting) (?:touched|groped|fondled|undressed|stripped|kissed|"
                             r"photographed) by\b"),
    (Category.NONCONSENSUAL, r"\b(?:{SEXCUE}|undressed|stripped|touched|groped) (?:\w+ ){0,2}(?:while|"
                             r"as) (?:she|he|they) "
                             r"(?:sleeps|slept|is asleep|is sleeping|is unconscious|is passed out|is drunk)\b"),
    (Category.NONCONSENSUAL, r"\b(?:spiked (?:her |his |a )?drinks?|roofied|roofie|roofies|date rape drug|"
                             r"drugged (?:her|his) drink)\b"),
    (Category.NONCONSENSUAL, r"\b(?:{SEXCUE}|groping|touching|filming|photographing) (?:\w+ ){0,5}(?:a |an |the )?"
                             r"(?:sleeping|unconscious|drunk|drugged|passed out)\b"),
    (Category.NONCONSENSUAL, r"\b(?:forced|forcing|forces|made|making|makes|blackmailed|coerced|"
                             r"pressured) (?:her |him |them |his "
                             r"\w+ |a \w+ )?(?:to |into )?(?:undress|take off|remove her|get naked|have sex|sex|"
                             # strip, not a coating off a thing ("made to strip the wallpaper")
                             r"strip(?! (?:the |a |an |its |off the |off )?(?:paint|wallpaper|bark|wires?|varnish|"
                             r"beds?|sheets|floors?|engine|car|cables?|insulation|old)\b)|"
                             r"perform|pose naked|posing naked|posing nude|pose nude|posing)\b"),
    (Category.NONCONSENSUAL, r"\b(?:stripped|undressed|naked|nude) and (?:chained|tied|bound|restrained|gagged)\b"),
    (Category.NONCONSENSUAL, r"\b(?:pinned|held|forced|shoved|thrown) (?:down |to the (?:floor|bed|ground|"
                             r"wall) |against "
                             r"(?:a|the) wall )(?:\w+ ){0,3}(?:clothes|dress|shirt|blouse|skirt) (?:torn|ripped)\b"),
    (Category.NONCONSENSUAL, r"\b(?:dog|dogs|horse|horses|animal|animals|goat|pig|donkey|beast) (?:mounting|"
                             r"fucking|humping|"
                             r"having sex with|penetrating|licking) (?:a |an |the )?(?:\w+ ){0,1}(?:woman|man|"
                             r"girl|boy|person|"
                             r"lady|wife|her|him)\b"),
    (Category.NONCONSENSUAL, r"\b(?:tied up|tied down|bound|restrained|chained|gagged|held down|"
                             r"pinned down) (?:\w+ ){0,3}"
                             r"(?:and )?(?:being )?(?:assaulted|abused|violated|used|ravished|molested|groped)\b"),
    (Category.NONCONSENSUAL, r"\b(?:crying|screaming|struggling|sobbing|begging|terrified|scared|resisting|protesting) "
                             r"(?:\w+ ){0,3}(?:being|getting|as|while) (?:\w+ ){0,2}(?:{SEXCUE}|undressed|"
                             r"stripped|groped|"
                             r"touched|fondled|assaulted)\b"),
    (Category.NONCONSENSUAL, r"\b(?:sex|intercourse|fucking|mating|making love|sexual) (?:\w+ ){0,1}with (?:a |"
                             r"an |the |her |his )?"
                             r"(?:\w+ ){0,1}(?:dog|dogs|horse|horses|animal|animals|goat|pig|donkey|sheep|beast)\b"),
    (Category.NONCONSENSUAL, r"\b(?:hidden cameras?|spy cams?|secret(?:ly)? (?:filming|filmed|photographing|"
                             r"photographed|"
                             r"recording|recorded)|peeping|voyeur\w*) (?:\w+ ){0,5}(?:changing rooms?|"
                             r"locker rooms?|showers?|"
                             r"showering|bathrooms?|toilets?|restrooms?|bedroom|undressing|{SEXCUE})\b"),
    (Category.NONCONSENSUAL, r"\b(?:{SEXCUE}|nudes?|explicit|undress\w*) (?:\w+ ){0,6}from (?:her|his|their|"
                             r"my) (?:\w+ ){0,1}"
                             r"(?:instagram|facebook|tiktok|selfies?|profile|photos?|pictures?|social media)\b"),
    (Category.NONCONSENSUAL, r"\b(?:tied up|chained|gagged) (?:\w+ ){0,2}being (?:\w+ ){0,1}(?:{SEXCUE}|{REMOVE})\b"),
    # graphic injury
    (Category.GORE, r"\b{ORGANS} (?:\w+ ){0,2}{SPILL}\b"),
    (Category.GORE, r"\b{SPILL} (?:\w+ ){0,1}{ORGANS}\b"),
    (Category.GORE, r"\b(?:exposed|visible|open) (?:brain|brains|intestines|organs|bone|skull|viscera)\b"),
    (Category.GORE, r"\b{SEVER} {APART} (?:\w+ ){0,2}{BODYPART}\b"),
    (Category.GORE, r"\b{BODYPART} (?:\w+ ){0,2}{SEVER} {APART}\b"),
    (Category.GORE, r"\b(?:man|woman|person|girl|boy|body|victim|soldier|corpse|child|people|him|her) (?:\w+ ){0,1}"
                    r"(?:cut|sliced|sawn|sawed|torn|ripped|chopped|hacked|pulled) (?:in half|into pieces|apart|in two|"
                    r"to pieces|to shreds|like salami)\b"),
    (Category.GORE, r"\b(?:cutting|sawing|chainsaw|slicing|hacking) (?:\w+ ){0,1}through (?:a |an |the )?(?:\w+ ){0,1}"
                    r"(?:man|woman|person|body|victim|neck|leg|arm|torso|skull)\b"),
    (Category.GORE, r"\b{MANGLED} (?:\w+ ){0,2}{CORPSE}\b"),
    (Category.GORE, r"\b(?:rotting|decomposing|putrid|festering|maggots?|maggot infested) (?:\w+ ){0,3}(?:flesh|"
                    r"corpses?|"
                    r"bodies|cadavers?|wounds?|guts)\b"),
    (Category.GORE, r"\b(?:heads?|skulls?) on (?:a |the )?(?:pikes?|spikes?|stakes?)\b"),
    (Category.GORE, r"\b(?:graphic|gory|gruesome|grisly|grotesque) (?:\w+ ){0,2}(?:autopsy|wounds?|injur\w+|"
                    r"death|deaths|"
                    r"mutilation|violence|dismemberment|corpses?|bodies|murders?|execution|killing|dissection|"
                    r"decapitation|torture|massacre|accident)\b"),
    (Category.GORE, r"\b(?:severed|decapitated|hacked off|chopped off|ripped off|"
                    r"torn off) (?:\w+ ){0,1}(?:heads?|limbs?|"
                    r"arms?|legs?|hands?|fingers?|feet|penis|breasts?|tongue|ears?)\b"),
    (Category.GORE, r"\b(?:where (?:his|her|their|the) (?:\w+ ){0,1}(?:face|head|arm|leg|eyes?|jaw|hand) used to be|"
                    r"contents (?:on display|visible|spilling|exposed)|from chin to navel|pulled apart by|"
                    r"skinned alive|flayed alive|boiled alive|eaten alive|burned alive|human flesh|"
                    r"arterial spray|wood chipper|meat grinder|hanging by a strip of skin|brain matter|"
                    r"blood and guts|(?:skin|face) peeled (?:back|off))\b"),
    (Category.GORE, r"\b(?:skull|head|face) (?:\w+ ){0,2}(?:crushed|caved in|smashed in|split open|blown off|"
                    r"blown apart|smashed open|cracked open)\b"),
    (Category.GORE, r"\b(?:brains?|skull) (?:\w+ ){0,1}(?:blown out|splattered|splatter|on the wall)\b"),
    (Category.GORE, r"\b(?:bone|bones) (?:\w+ ){0,1}(?:sticking|protruding|poking) (?:out|through)\b"),
    (Category.GORE, r"\b(?:flesh|skin) (?:\w+ ){0,2}(?:torn|ripped|peeled|flayed|melting|stripped) "
                    r"(?:off|away|open|from|back)\b"),
    (Category.GORE, r"\b(?:bloody|gushing|gaping) (?:\w+ ){0,1}(?:stump|stumps)\b"),
    (Category.GORE, r"\b(?:blood|gore) (?:spurting|gushing|spraying|pouring) (?:from|out of) (?:\w+ ){0,2}"
                    r"(?:neck|stump|throat|wound|severed|eye|eyes|head|chest|belly)\b"),
    (Category.GORE, r"\b(?:cut|slit|sliced|ripped|torn|split|cracked|sawed) open (?:\w+ ){0,2}(?:belly|stomach|chest|"
                    r"torso|abdomen|skull|throat|corpse|body)\b"),
    (Category.GORE, r"\b(?:belly|stomach|chest|torso|abdomen|throat) (?:\w+ ){0,2}(?:cut|slit|sliced|ripped|torn|"
                    r"split) open\b"),
    (Category.GORE, r"\b(?:headless|limbless|skinless|faceless) (?:\w+ ){0,1}(?:corpses?|bodies|body|cadavers?)\b"),
    (Category.GORE, r"\b(?:eyes?|eyeballs?) (?:\w+ ){0,1}(?:gouged|plucked|ripped|torn) out\b"),
    (Category.GORE, r"\b(?:pile|piles|heap|heaps|pool|pools|river) of (?:\w+ ){0,1}(?:corpses|bodies|guts|"
                    r"entrails|organs|severed)\b"),
    (Category.GORE, r"\b(?:cannibal|cannibals|cannibalism) (?:\w+ ){0,2}(?:eating|devouring|feasting)\b"),
    # hate symbols and glorification
    (Category.HATE, r"\b(?:swastikas?|svastika|esvastica|hakenkreuz|croix gammee|suastica|sonnenrad|black sun emblem|"
                    r"black sun symbol|sig runes?|ss runes?|ss bolts|totenkopf|wolfsangel|othala rune|"
                    r"88 heil|blood and soil|burning cross|cross burning|klansm[ae]n|ku klux|"
                    r"klux klan|klan robes?|klan hood|kkk|aryan nation|aryan brotherhood|aryan warrior|master race|"
                    r"happy merchant|white genocide|great replacement|race war|isis flag|jihadi flag|"
                    r"nazi salute|sieg heil|heil hitler|hitler salute|roman salute|neo nazi|antisemitic|"
                    r"racist caricature|racist cartoon|hook nosed|monkey features|ape features|"
                    r"holocaust (?:was a )?(?:hoax|lie|fake|never happened)|(?:gas chambers?|auschwitz|holocaust|"
                    r"genocide|concentration camp) (?:\w+ ){0,3}(?:happy|joyful|fun|smiley|smiling|holiday|cheerful|"
                    r"party|meme|glorified|glorifying|celebrated|heroic)|glorif\w* (?:\w+ ){0,1}"
                    r"(?:the |el |la |le |les |den |die |o |a )?(?:holocaust|holocausto|holocauste|genocide|genocidio|"
                    r"genozid|massacre|masacre|nazis?|nazismo|nazisme|nationalsozialismus|terrorism|terrorismo|"
                    r"hitler|ss))\b"),
    (Category.HATE, r"\b{NAZI} (?:\w+ ){0,6}{PRAISE}\b"),
    (Category.HATE, r"\bdeath ?s head (?:insignia|skull|badge|emblem|flag|patch|ring)s?\b"),
    (Category.HATE, r"\b{NAZI} (?:\w+ ){0,6}(?:was right|were right|did nothing wrong|did the right thing|"
                    r"should have finished)\b"),
    (Category.HATE, r"\b(?:holocaust|shoah|genocide) (?:denial|denier|deniers|hoax|myth|lie|is fake|was fake)\b|"
                    r"\bdeny(?:ing)? the (?:holocaust|shoah|genocide)\b"),
    (Category.HATE, r"\b{PRAISE} (?:\w+ ){0,3}{NAZI}\b"),
    (Category.HATE, r"\b(?:kkk|klan|confederate) (?:\w+ ){0,4}(?:heroic|glorious|proud|recruitment|propaganda|"
                    r"tribute)\b"),
    (Category.HATE, r"\b(?:genocide|holocaust|ethnic cleansing|lynching|lynchings|mass shooting|massacre|"
                    r"school shooting|terrorist attack) (?:\w+ ){0,3}(?:glorified|celebrated|heroic|heroes|celebration|"
                    r"tribute|justified|was good|joyful)\b"),
    (Category.HATE, r"\b(?:celebration of|mocking|mockery of|making fun of|laughing at|jokes? about|"
                    r"funny) (?:\w+ ){0,2}"
                    r"(?:holocaust|genocide|ethnic cleansing|lynching|massacre|slavery|auschwitz|gas chambers?)\b"),
    (Category.HATE, r"\b(?:calling|called|call|calls|labelling|labeling) (?:\w+ ){0,1}(?:{GROUP}|{GROUPADJ} {PEOPLE}) "
                    r"(?:\w+ ){0,1}{VERMIN}\b"),
    (Category.HATE, r"\b(?:jews?|jewish|zionists?) (?:\w+ ){0,6}(?:control(?:ling|s)? the (?:world|media|banks|"
                    r"government)|"
                    r"puppet masters?|world domination|greedy|hooked nose|hook nose|big nose)\b"),
    (Category.HATE, r"\b(?:hooked nose|hook nose|hook nosed|big nosed?) (?:\w+ ){0,6}(?:jews?|jewish|banker|merchant|"
                    r"controlling)\b"),
    (Category.HATE, r"\b(?:celebrating|celebrate|glorifying|glorious|honoring|tribute to|praising) (?:\w+ ){0,3}"
                    r"(?:genocide|holocaust|ethnic cleansing|lynching|lynchings|mass shooting|massacre|"
                    r"school shooter|christchurch shooter|terrorist attack)\b"),
    (Category.HATE, r"\b(?:{GROUP}|{GROUPADJ} {PEOPLE}) (?:\w+ ){0,2}(?:as|are|like|depicted as|portrayed as|shown as|"
                    r"drawn as|turned into|als|wie|sind|sont|comme|como|son|sao|kak) (?:\w+ ){0,3}{VERMIN}\b"),
    (Category.HATE, r"\b(?:{KILLALL}) (?:all |the )?(?:\w+ ){0,1}(?:{GROUP}|{GROUPADJ} {PEOPLE})\b"),
    (Category.HATE, r"\b(?:{GROUP}|{GROUPADJ} {PEOPLE}) (?:should|must|deserve to|need to) (?:be )?(?:die|burn|gassed|"
                    r"exterminated|hanged|lynched|killed|deported)\b"),
    (Category.HATE, r"\b(?:black|african) (?:\w+ ){0,1}(?:man|men|person|people) (?:\w+ ){0,2}(?:hanging from|"
                    r"lynched|in a noose)\b"),
    (Category.HATE, r"\bnoose (?:\w+ ){0,3}(?:black man|black person|black people)\b"),
)


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def _group_words(name: str) -> tuple[str, ...]:
    return tuple(GROUPS[name].split())


def _expand(pattern: str) -> str:
    def group(match: re.Match) -> str:
        words = sorted(_group_words(match.group(1)), key=len, reverse=True)
        return "(?:" + "|".join(re.escape(w) for w in words) + ")"
    return re.sub(r"\{([A-Z]+)\}", group, pattern)


RULES: tuple[tuple[Category, re.Pattern], ...] = tuple((c, re.compile(_expand(p))) for c, p in _RULES)
# The rules' own words (multi-word phrases split): typo correction maps a misspelt word onto them.
VOCABULARY: frozenset[str] = frozenset(
    {word for text in GROUPS.values() for word in text.split() if len(word) >= 4}
    | {form for _, pattern in _RULES for word, optional in re.findall(r"([a-z]{4,})(\?)?", pattern)
       for form in ((word, word[:-1]) if optional else (word,))}
)
# A swastika in its Hindu, Buddhist or Jain sense is not a hate symbol.
_SACRED = re.compile(r"\b(?:hindu|hinduism|buddhist|buddhism|jain|jainism|temple|diwali|rangoli|mandala|"
                     r"sanskrit|manji|auspicious|sacred|ancient symbol|navajo)\b")
_SWASTIKA = re.compile(r"\bswastikas?\b")
_CJK_SKIP = {"Zs", "Cf", "Mn", "Me", "Cc"}


@dataclass(frozen=True)
class RuleHit:
    category: Category
    rule: str  # the rule's index and what it matched, for moderators' tools


def match_rules(words: str) -> list[RuleHit]:
    """Every rule that matches `words` (lowercase ASCII words, single-spaced)."""
    hits = []
    for index, (category, pattern) in enumerate(RULES):
        found = pattern.search(words)
        if found is None:
            continue
        if category is Category.HATE and _SWASTIKA.search(found.group(0)) and _SACRED.search(words):
            continue
        hits.append(RuleHit(category, f"rule {index}: {found.group(0)}"))
    return hits


def match_cjk(text: str) -> list[RuleHit]:
    """Japanese terms as substrings of the prompt's own text (NFKC, without spaces)."""
    if text.isascii():
        return []
    compact = "".join(ch for ch in unicodedata.normalize("NFKC", text)
                      if unicodedata.category(ch) not in _CJK_SKIP)
    return [RuleHit(category, term) for category, terms in CJK.items() for term in terms if term in compact]


BODY_CUES: frozenset[str] = frozenset(_group_words("BODYCUE"))


def minor_cues(words: list[str]) -> list[str]:
    """Bodily cues in the prompt: with a minor in it, the prompt sexualizes a child."""
    return [word for word in words if word in BODY_CUES]
