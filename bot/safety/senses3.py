"""Third-round benign senses that the whole prompt sets (senses.py holds the first ones).

Each is a class of use, not a labelled set's phrase, and none applies when the prompt names a person
(PERSON_WORDS, unless asked away: "no people"):
- tools: "stripper" next to a word of wires, paint or tools ("wire stripper", "paint stripper");
- colours: "nude" next to a word of colour, make-up or fashion ("nude lipstick", "nude heels", "a
  nude-colour trench coat"; Japanese ヌードカラー, ヌードベージュ, Korean 누드톤 is in terms_i18n3);
- plants: "semen" (Latin: seed) next to a word of seeds and herbs ("semen contra seeds", the
  apothecary's "semen cassiae");
- art: a nude statue or painting in a museum ("a marble nude in the Uffizi");
- machines at work: the gore rule's "meat grinder" or "wood chipper" in a prompt about food or
  gardening, with no body word;
- archaeology: a rune that hate groups took over ("othala rune", "wolfsangel", "sig rune") with two
  words of archaeology or Norse history and no other hate hit: the one sense here that lifts a
  PROTECTED category, so it asks for more evidence.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from bot.safety import rules
from bot.safety.terms import PERSON_WORDS, Category


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


NEGATORS = _words("no without nobody")
WINDOW = 2
TOOL_FIELD = _words("""wire wires cable cables tool tools insulation paint varnish lacquer pliers electrical
    electrician electronics workbench crimper crimping gauge""")
COLOUR_FIELD = _words("""color colour colors colours colored coloured tone tones toned shade shades beige palette
    lipstick lipsticks lip lips gloss heels pumps shoes sandals nail nails polish manicure makeup eyeshadow
    blush trench coat coats bag handbag fabric swatch swatches pink brown tan""")
PLANT_FIELD = _words("""contra seed seeds herb herbs herbal herbalist plant plants botanical botany apothecary
    cassiae coicis sinapis pharmacy jar remedy""")
FOOD_FIELD = _words("""sausage sausages mince minced beef pork meat recipe kitchen butcher butchers chef cooking
    burger burgers meatballs dumplings pierogi grinding""")
GARDEN_FIELD = _words("branches branch garden mulch logs tree trees twigs yard leaves firewood")
BODY_FIELD = _words("""body bodies corpse corpses human humans person arm arms leg legs hand hands finger fingers
    head heads blood bloody gore gory victim victims flesh limb limbs""")
RUNE_FIELD = _words("""viking vikings runestone runestones futhark norse archaeology archaeological museum
    medieval carved inscription inscriptions scandinavian iron age excavation artifact artefact""")
# An artwork shown in a museum: a nude statue or painting there is art history (never with a person
# word in the prompt, see benign_hits3: "a nude woman posing in a museum" is not about the artwork).
ART_NUDE = _words("nude nudes naked desnuda desnudo nue nu nackt nackte nackter nuda nudi naakt naakte nua nu")
ART_OBJECT = _words("""statue statues sculpture sculptures marble bronze painting paintings fresco frescoes canvas
    estatua escultura cuadro pintura statua scultura dipinto affresco skulptur gemalde statuette tableau
    peinture posag obraz rzezba heykel tablo beeld schilderij""")
MUSEUM = _words("""museum museums museo musee louvre prado uffizi gallery galleries galleria galerie muzeum muze
    rijksmuseum hermitage ermitazh orsay vatican""")
HATE_RUNES = re.compile(r"\b(?:othala|odal|wolfsangel|sig runes?|sowilo|tyr rune|algiz)\b")
MACHINES = re.compile(r"\b(?:meat grinder|wood chipper)\b")
_JA_NUDE_COLOUR = re.compile(r"ヌード(?:カラー|ベージュ|ピンク|系|トーン|ネイル|リップ|ヒール|色)")


def _near(words: list[str], term: str, field: frozenset[str]) -> bool:
    for index, word in enumerate(words):
        if word == term and not field.isdisjoint(words[max(0, index - WINDOW):index + WINDOW + 1]):
            return True
    return False


def benign_hits3(hits: Iterable, words: list[str], prompt: str) -> list:
    """The hits (prompt_filter.Hit) that one of this module's senses makes benign; `words`: the
    prompt's words as the rules read them."""
    persons = [word for index, word in enumerate(words) if word in PERSON_WORDS
               and not (index and words[index - 1] in NEGATORS)]
    if persons:
        return []
    hits = list(hits)
    present = set(words)
    lifted = [h for h in hits if h.category is Category.SEXUAL and (
        (h.term == "stripper" and _near(words, "stripper", TOOL_FIELD))
        or (h.term == "nude" and _near(words, "nude", COLOUR_FIELD))
        or (h.term == "semen" and _near(words, "semen", PLANT_FIELD)))]
    if not present.isdisjoint(ART_OBJECT) and not present.isdisjoint(MUSEUM):
        lifted += [h for h in hits if h.category is Category.SEXUAL and h.term in ART_NUDE]
    if _JA_NUDE_COLOUR.search(prompt) and "ヌード" not in _JA_NUDE_COLOUR.sub("", prompt):
        lifted += [h for h in hits if h.term == "ヌード"]
    if present.isdisjoint(BODY_FIELD) and not (present.isdisjoint(FOOD_FIELD) and present.isdisjoint(GARDEN_FIELD)):
        lifted += [h for h in hits if h.category is Category.GORE and h.term.startswith("rule ")
                   and MACHINES.fullmatch(h.term.partition(": ")[2])]
    runes = [h for h in hits if h.category is Category.HATE and HATE_RUNES.search(h.term)]
    if runes and len(present & RUNE_FIELD) >= 2 and len(runes) == sum(h.category is Category.HATE for h in hits):
        # A rule reports its first match only: the rest of the prompt must hold no other hate symbol.
        rest = HATE_RUNES.sub(" ", " ".join(words))
        if not any(hit.category is Category.HATE for hit in rules.match_rules(rest)):
            lifted += runes
    return list(dict.fromkeys(lifted))
