"""Prompt normalization: whatever the spelling, the words a reader would see.

Steps, each linear in the prompt's length (no homoglyph expander that enumerates variants:
`confusables.normalize()` took 20 s on 48 characters):
1. Unicode NFKC (full-width "ｎｕｄｅ", mathematical "𝐧𝐮𝐝𝐞", circled "ⓝⓤⓓⓔ" become "nude").
2. Format characters (zero-width, bidi controls), combining marks ("n̶u̶d̶e̶") and control or
   unassigned characters removed; whitespace becomes a space.
3. Transliteration to ASCII with `anyascii` ("ñüdé" -> "nude", "нуде" -> "nude"). When the text holds
   Cyrillic or Greek look-alikes, a second reading maps them by shape first ("рогп" -> "porn"):
   both readings are matched, because "нуде" reads "nude" phonetically and "hyde" visually.
4. Per word, candidate spellings: leet digits and symbols folded ("s3x", "p0rn", "$ex"; 1 and | as
   both i and l), symbols dropped ("nude!"), repeated letters squeezed ("nuuuude" -> "nude",
   "boooobs" -> "boobs"; never expanded, so "bobs" stays "bobs"), one "*" read as any vowel ("p*rn").
5. Separators inside a word joined ("n.u.d.e", "n-u-d-e"), and runs of single characters across
   spaces joined ("n u d e"), which the filter also searches inside ("n u d e w o m a n").
6. Ages: "12yo", "12 y/o", "12-year-old", "aged 12", "twelve years old", "5th grade", "grade 5",
   "year 9", "15 años", "15 ans", "15 Jahre", "15 лет", "15歳".
7. Misspellings one slip from a known term (`TypoIndex`): two adjacent letters swapped ("nakde"),
   a letter doubled ("nakked"), one letter missing ("clothng", "nud") or one inside letter added
   ("clothxes"). Only for terms of 4+ letters, never the first letter, and never when the
   misspelling is itself an English word (typo_guard.py: "aped" is not "raped", "rap" not "rape").
"""
from __future__ import annotations

import operator
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import NamedTuple

from anyascii import anyascii

from bot.safety.ages_i18n import more_ages
from bot.safety.terms import ADULT_AGE, NUMBER_WORDS

# Cyrillic and Greek letters that look like Latin ones (by shape, not sound).
HOMOGLYPHS: dict[str, str] = {
    **dict(zip("авсеёһніїјкмопрԛгѕтухԝьи", "abceehhiijkmonpqrstyxwbu", strict=True)),
    **dict(zip("АВСЕЁНІЈКМОРЅТХУ", "abceehijkmopstxy", strict=True)),
    **dict(zip("αβεηικνορτυχγωμ", "abenikvoptuxywu", strict=True)),
    **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "abezhikmnoptyx", strict=True)),
}
_DROPPED = {"Cf", "Mn", "Me", "Cc", "Co", "Cn", "Cs"}
_TABLE_LIMIT = 50_000  # distinct characters remembered per reading (bounds memory)


class _Reading(dict):
    """A str.translate table filled on first use of each character (translate runs in C; this
    Python code runs once per distinct character, not per character of every prompt)."""

    def __init__(self, visual: bool):
        super().__init__()
        self.visual = visual

    def __missing__(self, code: int) -> str:
        char = chr(code)
        if char.isspace():
            out = " "
        elif unicodedata.category(char) in _DROPPED:
            out = ""
        elif self.visual and char in HOMOGLYPHS:
            out = HOMOGLYPHS[char]
        elif code < 128:
            out = char.lower()
        else:
            out = anyascii(char).lower()
        if len(self) > _TABLE_LIMIT:
            self.clear()
        self[code] = out
        return out


_PHONETIC = _Reading(visual=False)
_VISUAL = _Reading(visual=True)

LEET = "013457$@!|+8"
_OTHER = "".join(c for c in "0123456789$@!|+*" if c not in LEET)
# One translate each: leet folded (1, | and ! as i, or as l) and any other non-letter dropped.
_FOLD_I = str.maketrans(LEET, "oieastsaiitb", _OTHER)
_FOLD_L = str.maketrans(LEET, "oleastsalltb", _OTHER)
_NON_LETTERS = str.maketrans("", "", "0123456789$@!|+*")
_MEASURE = re.compile(r"\d+(?:mm|cm|km|m|s|k|p|px|fps|hz|khz|mhz|ghz|gb|mb|tb|kb|mp|ml|kg|g|w|kw|v|x|d|"
                      r"th|st|nd|rd|h|min|am|pm|bit|in|ft|lb|lbs|oz)\Z")
_WORD_CHARS = re.compile(r"[a-z0-9$@!|+*]+")
_DOUBLE = re.compile(r"(.)\1")
_RUN3 = re.compile(r"(.)\1{2,}")
_RUN2 = re.compile(r"(.)\1+")
_NUM = "|".join(NUMBER_WORDS)
# An age: a number, then a unit ("yo", "years old", and the unit in es/fr/de/pt/ru/ja after
# transliteration: anos, ans, jahre, jahrige, let, sui), or "aged"/"age:" then a number.
_UNIT = (r"(?:yo|y/o|y\.o\.?|yrs?\s*-?\s*old|years?\s*-?\s*old|years?\s*-?\s*young|years?\s+of\s+age|"
         r"anos|ans|jahre|jahrig\w*|let|godik|sui|sai)")
_NUM_ANY = rf"(\d{{1,2}}|{_NUM})"
_AGES = (
    re.compile(rf"(?<![\d.])\b{_NUM_ANY}\s*-?\s*{_UNIT}s?(?![a-z])"),
    re.compile(rf"\bage[ds]?\s*(?:of|:|=|is)?\s*{_NUM_ANY}\b"),
    re.compile(rf"\b(?:edad|idade|alter|vozrast)\s*(?:de|:)?\s*{_NUM_ANY}\b"),
    # "a girl, 15, ..." and "model (16)": a number set off right after a word for a person
    re.compile(rf"\b(?:girl|boy|woman|man|teen|model|kid|child|daughter|son|student|she|he|madchen|junge|nina|nino|"
               rf"chica|chico|fille|garcon|menina|menino|devochka|malchik)s?\s*(?:,|\()\s*"
               rf"{_NUM_ANY}\s*(?:,|\)|$)"),
    # "a boy of 10", "a girl aged 9" (after the word for a person)
    re.compile(rf"\b(?:girl|boy|kid|child|daughter|son|student|teen)s?\s+(?:of|aged)\s+{_NUM_ANY}\b(?!\s*(?:%|am|pm))"),
)
_GRADE_ORD = ("first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|"
              r"\d{1,2}(?:st|nd|rd|th)")
_GRADE = re.compile(rf"\b(?:(?:{_GRADE_ORD})\s*-?\s*grade(?:rs?)?|grade\s*\d{{1,2}}\b|year\s*(?:[1-9]|1[0-3])\s+"
                    r"(?:student|pupil|girl|boy|kid|child)s?\b|(?:middle|elementary|primary|junior\s*high|high)"
                    r"\s*schooler|(?:freshman|sophomore)\s+in\s+high\s+school)")
_WORDS_CACHE: dict[str, Token] = {}
_WORDS_CACHE_LIMIT = 20_000


class Token(NamedTuple):
    """One word: `canonical` (and `squeezed`) for phrases, `forms` for word lookups, `stretched`
    for the squeezed spellings of words written with a letter repeated 3+ times ("boooobs")."""

    canonical: str
    squeezed: str
    forms: tuple[str, ...]
    stretched: tuple[str, ...]


class Joined(NamedTuple):
    """Pieces read as one word: a word with separators inside ("n.u.d.e", tokens start..end-1),
    or a run of single characters across spaces ("n u d e", `run` True: searched inside too)."""

    start: int
    end: int
    word: Token
    run: bool


@dataclass(frozen=True)
class Reading:
    tokens: tuple[Token, ...]
    joined: tuple[Joined, ...]


@dataclass(frozen=True)
class Normalized:
    text: str  # the phonetic ASCII reading, lowercase
    readings: tuple[Reading, ...]  # one, or two when look-alike letters were present
    ages: tuple[int, ...]  # every age written in the prompt (any age, adults included)


def ascii_text(text: str, visual: bool = False) -> str:
    """Steps 1-3: NFKC, drop invisible characters, transliterate, lowercase."""
    return unicodedata.normalize("NFKC", text).translate(_VISUAL if visual else _PHONETIC)


_SQUEEZE = operator.itemgetter(1)  # a C callable: regex replacement without template parsing


def squeeze(word: str) -> str:
    """Every run of a repeated letter squeezed to one ("nuuude" -> "nude", "boobs" -> "bobs")."""
    return _RUN2.sub(_SQUEEZE, word) if _DOUBLE.search(word) else word


def _word(raw: str) -> Token:
    """Step 4 for one word (cached: prompts repeat words, and this is the filter's hot path)."""
    cached = _WORDS_CACHE.get(raw)
    if cached is not None:
        return cached
    if raw.isalpha():
        bases = [raw]
        canonical = raw
    elif raw.isdigit() or _MEASURE.match(raw):
        # "under 18", "1488"; and a number with its unit ("85mm", "1930s", "8k", "1080p"), which is
        # a measure, not leet ("85mm" folded would read "bsmm", one slip from "bdsm"). Ages are read
        # from the text.
        bases, canonical = [raw], raw
    else:
        # "!" and "|" are letters inside a word ("n!pple") but punctuation at its ends ("nude!").
        canonical = raw.strip("!|+").translate(_FOLD_I)
        bases = [raw.translate(_FOLD_I), canonical]
        if "1" in raw or "|" in raw or "!" in raw:
            bases.append(raw.translate(_FOLD_L))
        if raw.count("*") == 1 and len(raw) >= 3:
            bases.extend(raw.replace("*", vowel).translate(_FOLD_I) for vowel in "aeiou")
        bases.append(raw.translate(_NON_LETTERS))  # symbols and digits simply dropped
    forms: dict[str, None] = {}
    stretched: dict[str, None] = {}
    for base in bases:
        if not base:
            continue
        forms[base] = None
        if _DOUBLE.search(base):
            short = _RUN2.sub(_SQUEEZE, base)
            forms[short] = None
            if _RUN3.search(base):  # a letter written 3+ times: stretched on purpose
                stretched[short] = None
    token = Token(canonical, squeeze(canonical), tuple(forms), tuple(stretched))
    if len(_WORDS_CACHE) > _WORDS_CACHE_LIMIT:
        _WORDS_CACHE.clear()
    _WORDS_CACHE[raw] = token
    return token


def _reading(text: str) -> Reading:
    tokens: list[Token] = []
    joined: list[Joined] = []
    run_start, run_chars = 0, list[str]()

    def close_run() -> None:
        if len(run_chars) >= 3:
            joined.append(Joined(run_start, run_start + len(run_chars), _word("".join(run_chars)), True))
        run_chars.clear()

    for chunk in text.split():
        pieces = _WORD_CHARS.findall(chunk)
        if not pieces:
            continue
        start = len(tokens)
        tokens.extend(map(_word, pieces))
        if len(pieces) > 1:
            joined.append(Joined(start, len(tokens), _word("".join(pieces)), False))
        # Runs of one-character words across spaces ("n u d e"); "n.u.d.e" is one chunk and
        # joins with its neighbours too ("n.u. d e").
        if len(chunk) == 1 or all(len(piece) == 1 for piece in pieces):
            if not run_chars:
                run_start = start
            run_chars.extend(pieces)
        else:
            close_run()
    close_run()
    return Reading(tuple(tokens), tuple(joined))


_CJK_AGE = re.compile(r"(\d{1,2})\s*(?:歳|才)")


def _ages(text: str, raw: str = "") -> tuple[int, ...]:
    ages: list[int] = [int(age) for age in _CJK_AGE.findall(unicodedata.normalize("NFKC", raw))] if raw else []
    for pattern in _AGES:
        for match in pattern.finditer(text):
            value = match.group(1)
            ages.append(int(value) if value.isdigit() else NUMBER_WORDS[value])
    # "15" alone is not an age; a unit of "let"/"ans"/"sui" needs the number right before it (above).
    if _GRADE.search(text):
        ages.append(ADULT_AGE - 1)  # a school grade: a minor
    ages += more_ages(text, raw)  # Italian, Polish, Turkish, Dutch, Chinese, Korean...
    return tuple(ages)


def normalize(text: str) -> Normalized:
    phonetic = ascii_text(text)
    readings = [_reading(phonetic)]
    if not HOMOGLYPH_SET.isdisjoint(text):
        readings.append(_reading(ascii_text(text, visual=True)))
    return Normalized(phonetic, tuple(readings), _ages(phonetic, "" if text.isascii() else text))


HOMOGLYPH_SET = frozenset(HOMOGLYPHS)


def _transpositions(word: str) -> Iterable[str]:
    for i in range(len(word) - 1):
        if word[i] != word[i + 1]:
            yield word[:i] + word[i + 1] + word[i] + word[i + 2:]


def _inner_deletions(word: str) -> Iterable[str]:
    for i in range(1, len(word) - 1):
        yield word[:i] + word[i + 1:]


def _deletions(word: str) -> Iterable[str]:
    """Every letter but the first dropped once ("nude" -> "nud", "clothes" -> "cloths")."""
    for i in range(1, len(word)):
        yield word[:i] + word[i + 1:]


class TypoIndex:
    """Step 7: the known term a word is a slip away from, by dictionary lookups (no edit-distance
    search): every transposition and inner deletion of each term is a key; a word with one letter
    too many is found by trying its inner deletions (words of 7+ letters only)."""

    def __init__(self, vocabulary: Iterable[str], guard: frozenset[str] = frozenset()):
        self.exact = frozenset(w for w in vocabulary if w.isalpha())
        self.keys: dict[str, str] = {}
        self.squeezed: dict[str, str] = {}
        for term in sorted(self.exact):
            if len(term) >= 4:
                for key in _transpositions(term):
                    self.keys.setdefault(key, term)
                self.squeezed.setdefault(squeeze(term), term)
            if len(term) >= 4:
                for key in _deletions(term):
                    self.keys.setdefault(key, term)
        self.guard = guard | self.exact
        for key in [k for k in self.keys if k in self.guard]:
            del self.keys[key]

    def lookup(self, form: str) -> str | None:
        """The term `form` misspells, or None (also for a term itself and for guarded words)."""
        if len(form) < 3 or form in self.guard:
            return None
        term = self.keys.get(form)
        if term is not None:
            return term
        if _DOUBLE.search(form):
            short = squeeze(form)
            term = self.squeezed.get(short) or self.keys.get(short)
            if term is not None:
                return term
        if len(form) >= 7:
            for key in _inner_deletions(form):
                if key in self.exact:
                    return key
        return None
