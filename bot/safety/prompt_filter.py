"""The prompt filter: three layers over every reading of a normalized prompt.

1. Terms: categorized words and phrases (English, and es/fr/de/pt/ru/ja from terms_i18n), matched
   per word (never inside a longer word), also one slip away (TypoIndex: "nakde", "nakked"); the
   allowlist of benign senses; per-server additions and exemptions; ages under 18.
2. Rules (rules.py, rules_paraphrase.py): patterns that paraphrases share (clothing removal, exposure, non-consent,
   graphic injury, hate symbols and glorification, bodily cues next to a minor) and the Japanese
   terms. (What the negative prompt steers away from is bot/safety/negative.py's, in check_text.)
3. The learned layer (classifier.py), when one is configured: its unsafe score is always kept in the
   result; at or over its threshold, its category counts like a hit.
Cost: dictionary lookups per word, one regex search per rule and one sparse dot product; linear in
the prompt (tests/test_prompt_filter.py bounds the worst case).
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from bot.safety import rules, rules_paraphrase, rules_round3, senses, senses3
from bot.safety.classifier import classifier_input
from bot.safety.normalize import Reading, Token, TypoIndex, normalize, squeeze
from bot.safety.policy import ChannelKind, refused_category
from bot.safety.scene import no_one_shown
from bot.safety.scores import is_probability
from bot.safety.terms import (
    ADULT_AGE,
    ALLOW,
    CONTEXT_NEEDS_NO_PERSON,
    CONTEXT_SENSES,
    FAKE_GORE_CONTEXT,
    PERSON_WORDS,
    PHRASES,
    PREFIXES,
    REALISM,
    WORDS,
    Category,
)
from bot.safety.terms_i18n import PREFIXES_I18N, native_terms
from bot.safety.terms_i18n3 import PREFIXES3, native_terms3
from bot.safety.typo_guard import GUARD
from bot.safety.typo_guard_i18n import GUARD_I18N

if TYPE_CHECKING:
    from bot.safety.classifier import PromptClassifier

# What a server's own exemptions can never lift: the rules that hold everywhere.
PROTECTED = frozenset({Category.MINORS, Category.SEXUAL_MINORS, Category.NONCONSENSUAL, Category.HATE})
# Shortest term searched for inside a run of spaced-out letters ("s e x y", "n u d e w o m a n"):
# shorter ones would match by chance.
RUN_SEARCH_MIN = 4
RUN_SEARCH_SHORT = frozenset({"sex", "xxx", "cum", "kkk"})


@dataclass(frozen=True)
class Hit:
    category: Category
    term: str  # what matched, for tests and moderators' tools; never shown to the member


@dataclass(frozen=True)
class FilterResult:
    hits: tuple[Hit, ...]
    exempted: tuple[Hit, ...] = ()  # lifted by the server's own exemptions
    # The learned layer's probability that the text is unsafe (None: no learned layer ran) and the
    # layer that decided ("terms", "rules", "classifier"): kept in the block record for moderators.
    score: float | None = None
    layer: str | None = None

    @property
    def categories(self) -> frozenset[Category]:
        found = {hit.category for hit in self.hits}
        # A sexual (or abusive) term with a minor term or an age under 18: the rule of rules. A
        # server's exemption of a sexual word does not count here, or it would lift this rule too.
        sexual = found | {hit.category for hit in self.exempted}
        if sexual & {Category.SEXUAL, Category.SUGGESTIVE, Category.NONCONSENSUAL} and Category.MINORS in found:
            found.add(Category.SEXUAL_MINORS)
        return frozenset(found)


def phrase_key(text: str) -> tuple[str, ...]:
    """How a term (built-in or a moderator's) is compared: its normalized words."""
    reading = normalize(text).readings[0]
    return tuple(token.canonical for token in reading.tokens if token.canonical)


@dataclass(frozen=True)
class ServerTerms:
    """One server's additions (always refused, as CUSTOM) and exemptions (not for PROTECTED)."""

    blocked: tuple[tuple[str, ...], ...] = ()
    allowed: tuple[tuple[str, ...], ...] = ()

    @classmethod
    def from_texts(cls, blocked: Iterable[str], allowed: Iterable[str]) -> ServerTerms:
        return cls(tuple(k for k in map(phrase_key, blocked) if k), tuple(k for k in map(phrase_key, allowed) if k))


Phrase = tuple[str, ...]


class _Phrases:
    """Phrases indexed by their first word: one dictionary lookup per word of the prompt."""

    def __init__(self, phrases: dict[Phrase, Category]):
        self.by_first: dict[str, list[tuple[Phrase, Category]]] = {}
        for phrase, category in phrases.items():
            self.by_first.setdefault(phrase[0], []).append((phrase, category))

    def find(self, reading: Reading):
        """(phrase, category, start) for every phrase in the reading (as written or squeezed)."""
        tokens = reading.tokens
        canonical = [t.canonical for t in tokens]
        squeezed = [t.squeezed for t in tokens]
        by_first = self.by_first
        for i, token in enumerate(tokens):
            for words in (canonical, squeezed):
                for phrase, category in by_first.get(words[i], ()):
                    if tuple(words[i:i + len(phrase)]) == phrase:
                        yield phrase, category, i
                if token.canonical == token.squeezed:
                    break


class _Terms:
    """Words (and their squeezed spellings, for stretched words), prefixes by their first three
    letters, and phrases."""

    def __init__(self, words: dict[str, Category], phrases: dict[Phrase, Category],
                 prefixes: dict[str, Category]):
        self.words = words
        # Misspellings of the terms and of the rules' own words (rules read corrected words).
        self.typo = TypoIndex([*words, *rules.VOCABULARY], GUARD | GUARD_I18N)
        self.stretched = {squeeze(word): (word, category) for word, category in words.items()}
        self.phrases = _Phrases(phrases)
        self.prefixes: dict[str, list[tuple[str, Category]]] = {}
        for stem, category in prefixes.items():
            self.prefixes.setdefault(stem[:3], []).append((stem, category))
        self.run_terms = tuple(
            (term, category) for term, category in {**words, **prefixes}.items()
            if len(term) >= RUN_SEARCH_MIN or term in RUN_SEARCH_SHORT
        )

    def word(self, token: Token, fuzzy: bool = True) -> tuple[str, Category] | None:
        """The term `token` spells; `fuzzy`: or misspells (not for the look-alike reading, whose
        words are shapes, not spellings: "спит" looks like "cnut")."""
        words = self.words
        for form in token.forms:
            category = words.get(form)
            if category is not None:
                return form, category
        for form in token.stretched:
            found = self.stretched.get(form)
            if found is not None:
                return found
        prefixes = self.prefixes
        for form in token.forms:
            for stem, category in prefixes.get(form[:3], ()):
                if form.startswith(stem):
                    return stem, category
        if fuzzy:
            for form in token.forms:
                term = self.typo.lookup(form)
                if term is not None and term in words:
                    return term, words[term]
        return None

    def corrected(self, token: Token, fuzzy: bool = True) -> str:
        """The word as the rules read it: its spelling with leet folded, or the term it misspells."""
        for form in token.forms:
            if form in self.typo.exact:
                return form
        for form in token.forms if fuzzy else ():
            if len(form) < 5:  # short words: only the terms' own misspellings ("nud"), in word()
                continue
            term = self.typo.lookup(form)
            if term is not None:
                return term
        return token.canonical


@functools.lru_cache(maxsize=256)
def _compiled(server: ServerTerms) -> _Terms:
    """The built-in terms plus a server's blocked ones (cached: a server's terms change rarely,
    and a changed list is a new ServerTerms)."""
    words = {word: category for category, group in WORDS.items() for word in group}
    phrases = {phrase: category for category, group in PHRASES.items() for phrase in group}
    for category, group in [*native_terms().items(), *native_terms3().items()]:
        for text in group:
            key = phrase_key(text)
            if len(key) == 1:
                words.setdefault(key[0], category)
            elif key:
                phrases.setdefault(key, category)
    for key in server.blocked:
        if len(key) == 1:
            words.setdefault(key[0], Category.CUSTOM)
        else:
            phrases.setdefault(key, Category.CUSTOM)
    return _Terms(words, phrases, {**PREFIXES3, **PREFIXES_I18N, **PREFIXES})


@functools.lru_cache(maxsize=256)
def _allowlist(phrases: tuple[Phrase, ...]) -> _Phrases:
    return _Phrases(dict.fromkeys(phrases, Category.CUSTOM))


def _covered(reading: Reading, allow: _Phrases) -> set[int]:
    """Indices of the words inside an allowlisted phrase."""
    covered: set[int] = set()
    for phrase, _, start in allow.find(reading):
        covered.update(range(start, start + len(phrase)))
    return covered


# Flagged words that are also surnames or parts of names ("Dick Van Dyke", "Al Gore", "Gore Verbinski"):
# written capitalized next to another capitalized word, in a prompt that is not all capitalized, they
# are a name. Never for the PROTECTED categories.
NAMEABLE = frozenset({"dick", "gore", "cock", "cox", "wang", "johnson", "butts"})
_NAME = re.compile(r"\b[A-Z][a-z]+\.?(?:\s+(?:[A-Z]\.\s*)*[A-Z][a-z]+)+\b")
_CAPITALIZED = re.compile(r"\b[A-Z]")


def _names(prompt: str) -> frozenset[str]:
    words = prompt.split()
    if not words or len(_CAPITALIZED.findall(prompt)) > 0.6 * len(words):
        return frozenset()  # Title Case Or CAPITALS everywhere: capitals say nothing
    found = {w.lower().strip(".") for m in _NAME.finditer(prompt) for w in m.group(0).split()}
    return frozenset(found & NAMEABLE)


class PromptFilter:
    def __init__(self, classifier: PromptClassifier | None = None) -> None:
        self.allow = _allowlist(tuple(sorted(ALLOW)))
        self.classifier = classifier

    def check(self, prompt: str, server: ServerTerms | None = None, negative: str = "") -> FilterResult:
        """The prompt, and the member's negative prompt with it. (What a negative steers the model away
        from, clothing or adulthood, is decided after this by bot/safety/negative.py, in
        decision.check_text.) What else a negative may hold that a prompt may not ("nude, nsfw"
        steers away from nudity) is not counted against it; its hateful and server-blocked terms are,
        since the text is shown with the result."""
        result, words = self._check_prompt(prompt, server)
        hits = dict.fromkeys(result.hits)
        negative_words: list[str] = []
        if negative.strip():
            negative_result, negative_words = self._check_prompt(negative, server)
            # Slurs and server-blocked terms, not hate symbols: "swastika" in a negative steers away from it.
            hits.update(dict.fromkeys(hit for hit in negative_result.hits
                                      if hit.category in (Category.HATE, Category.CUSTOM)
                                      and not hit.term.startswith("rule ") and " " not in hit.term))
        layer = result.layer or ("rules" if hits else None)
        score = None
        if self.classifier is not None:
            if negative_words and no_one_shown(prompt, words, negative_words):
                negative_words = []  # what an empty scene's negative keeps out undresses no one
            score, category = self.classifier.predict(classifier_input(words, negative_words))
            if not is_probability(score):
                # No usable answer (None, NaN, a string...): kept as NaN, which check_text refuses (fail
                # closed); None would read as "no learned layer configured".
                score = float("nan")
            # Also beside hits that refuse nothing alone: a minor named ("a girl of thirteen") must not
            # keep the learned layer's "sexual" from counting, or it could never make sexual-minors.
            if score >= self.classifier.threshold and category not in {hit.category for hit in hits}:
                hits[Hit(category, f"classifier {score:.2f}")] = None
                layer = "classifier"
        return replace(result, hits=tuple(hits), score=score, layer=layer if hits else None)

    def words(self, text: str) -> list[str]:
        """The words of `text` as the rules and the learned layer read them."""
        return self._check_prompt(text)[1]

    def _check_prompt(self, prompt: str, server: ServerTerms | None = None) -> tuple[FilterResult, list[str]]:
        """The terms and rules layers on one text, and its words as the rules read them."""
        normalized = normalize(prompt)
        server = server or ServerTerms()
        terms = _compiled(server)
        exemptions = _allowlist(server.allowed) if server.allowed else None
        names = _names(prompt)
        hits: dict[Hit, None] = {}
        exempted: dict[Hit, None] = {}
        layer = None
        all_words: list[str] = []
        for number, reading in enumerate(normalized.readings):
            fuzzy = number == 0  # the phonetic reading; the look-alike one is matched as spelt
            covered = _covered(reading, self.allow)
            exempt = covered | _covered(reading, exemptions) if exemptions else covered
            for hit, span in self._match(reading, terms, fuzzy):
                if hit.term in names and hit.category not in PROTECTED:
                    continue
                # An empty span (a hit inside a run of spaced letters) is never exempt.
                if not span or not covered.issuperset(span):
                    if hit.category in PROTECTED or not span or not exempt.issuperset(span):
                        hits.setdefault(hit)
                    else:
                        exempted.setdefault(hit)
            # Words in a benign sense or a name read as a blank: no rule or learned feature sees them.
            blank = covered | {i for i, token in enumerate(reading.tokens) if token.canonical in names}
            words = _rule_words(reading, terms, fuzzy, blank)
            all_words.extend(words)
            text = " ".join(words)
            for rule_hit in [*rules.match_rules(text), *rules_paraphrase.match_more(text),
                             *rules_round3.match_round3(text)]:
                hits.setdefault(Hit(rule_hit.category, rule_hit.rule))
                layer = layer or "rules"
        raw_hits = [*rules.match_cjk(prompt), *rules_paraphrase.match_raw(prompt), *rules_round3.match_raw3(prompt)]
        for rule_hit in raw_hits:
            hits.setdefault(Hit(rule_hit.category, rule_hit.rule))
        if any(age < ADULT_AGE for age in normalized.ages):
            hits.setdefault(Hit(Category.MINORS, "age under 18"))
        present = set(all_words)
        for hit in [h for h in hits if h.term in CONTEXT_SENSES and h.category not in PROTECTED]:
            if hit.term in CONTEXT_NEEDS_NO_PERSON and not present.isdisjoint(PERSON_WORDS):
                continue
            if not present.isdisjoint(CONTEXT_SENSES[hit.term]):
                del hits[hit]
                exempted.setdefault(hit)
                # In its benign sense the word is a blank for the learned layer too.
                all_words = ["_" if word == hit.term else word for word in all_words]
        for hit in dict.fromkeys([*senses.benign_hits(hits, all_words, prompt),
                                  *senses3.benign_hits3(hits, all_words, prompt)]):
            del hits[hit]
            exempted.setdefault(hit)
            all_words = ["_" if word in hit.term.split() or word.startswith(hit.term) else word for word in all_words]
        if not present.isdisjoint(FAKE_GORE_CONTEXT) and present.isdisjoint(REALISM):
            for hit in [h for h in hits if h.category is Category.GORE]:
                del hits[hit]
                exempted.setdefault(hit)
        if any(hit.category is Category.MINORS for hit in hits):
            for cue in rules.minor_cues(all_words):
                hits.setdefault(Hit(Category.SUGGESTIVE, f"{cue} (with a minor)"))
        if hits and (layer is None or any(not hit.term.startswith("rule ") for hit in hits)):
            layer = "terms"
        return FilterResult(tuple(hits), tuple(exempted), layer=layer if hits else None), all_words

    @staticmethod
    def _match(reading: Reading, terms: _Terms, fuzzy: bool):
        """(hit, indices of the words it covers)."""
        # Pieces of one written word ("mal'chik", "n.u.d.e") are not misspellings of anything:
        # the word they make is (matched below).
        pieces = {i for joined in reading.joined if not joined.run for i in range(joined.start, joined.end)}
        for index, token in enumerate(reading.tokens):
            found = terms.word(token, fuzzy and index not in pieces)
            if found:
                yield Hit(found[1], found[0]), (index,)
        for phrase, category, start in terms.phrases.find(reading):
            yield Hit(category, " ".join(phrase)), range(start, start + len(phrase))
        for joined in reading.joined:
            found = terms.word(joined.word, fuzzy)
            if found:
                yield Hit(found[1], found[0]), range(joined.start, joined.end)
            elif joined.run:
                # Every term inside the run ("n a k e d c h i l d" is two), once each.
                found_in_run = {(term, category) for form in joined.word.forms
                                for term, category in terms.run_terms if term in form}
                for term, category in sorted(found_in_run):
                    yield Hit(category, term), ()


def _rule_words(reading: Reading, terms: _Terms, fuzzy: bool, blank: AbstractSet[int] = frozenset()) -> list[str]:
    """The reading's words for the rules: pieces written apart read as one ("c.l.o.t.h.e.s",
    "n u d e"), each word corrected to the term or rule word it misspells, those in `blank` as "_"."""
    starts = {joined.start: joined for joined in reading.joined}
    words: list[str] = []
    index = 0
    tokens = reading.tokens
    while index < len(tokens):
        joined = starts.get(index)
        if joined is not None and (joined.run or len(joined.word.canonical) > 2):
            candidate = terms.corrected(joined.word, fuzzy)
            if joined.run or candidate in terms.typo.exact:
                words.append(candidate)
                index = joined.end
                continue
        words.append("_" if index in blank else terms.corrected(tokens[index], fuzzy))
        index += 1
    return words


def screen_text(prompt_filter: PromptFilter, prompt: str, negative: str, server: ServerTerms | None,
                kind: ChannelKind) -> tuple[Category | None, FilterResult]:
    """The decision the bot makes on a prompt (and negative) in a channel of `kind`: the refusing
    category (None: it may be rendered) and the filter's result. SafetyService.screen and
    `python -m bot safety-eval` both call this, so the evaluation measures what the bot does."""
    result = prompt_filter.check(prompt, server, negative=negative)
    return refused_category(result.categories, kind), result
