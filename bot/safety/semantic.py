"""The semantic prompt layer (SAFETY_SEMANTIC=on): the prompt's meaning, not its words.

The pipeline's own CLIP text encoder embeds the prompt; its cosine similarity to a few short anchor
phrases per category (CONCEPTS) is the category's score, and a score at SAFETY_SEMANTIC_THRESHOLD or
above refuses the prompt under the channel's policy (bot/safety/policy.refused_category: sexual
content and gore pass in NSFW channels, the rest is refused everywhere). It is meant for
paraphrases with none of the listed words ("her dress dissolves into nothing"); how many it
catches depends on the operator's model and has not been measured here (no real weights).

It runs after the terms/rules/classifier layers have let a prompt through (SafetyService._read_text),
on the prompt only (the negative has its own rule, bot/safety/negative.py).

Which encoder (`pick_encoder`, bot/renderer/text_encoder.py): the pipeline's first CLIP text encoder,
`text_encoder` with `tokenizer` (CLIP ViT-L/14 in SD1.5, SDXL, SD3 and FLUX; OpenCLIP ViT-H in SD2). The pooled
embedding is the projected `text_embeds` when the encoder has CLIP's projection
(CLIPTextModelWithProjection: SD3) and `pooler_output` (the final-layer EOS state) otherwise. SDXL's
second encoder (OpenCLIP bigG, 694M parameters) would be the better-trained space, but on one CPU
thread it took 493 ms for a 20-token prompt against ViT-L's 72 ms (185 ms at 77 tokens; measured
with random weights of the real shapes); a model whose first encoder is not CLIP falls back to a
later CLIP encoder (T5 encoders have no pooled output and are never used).

Torch stays out of the bot's process: the encoder runs in a spawned child process
(bot/safety/semantic_child.py), like SAFETY_IMAGE_CHECKER=sd. A child that fails to load, crashes,
answers nonsense or does not answer within the timeout refuses the prompt (fail closed, layer
"semantic-error"); a crashed or stuck child is killed and a fresh one is started for the next prompt.

Uncalibrated by default: cosine similarities depend on the encoder, so the threshold has to be
chosen with the operator's real model on labelled prompts (`python -m bot semantic-calibrate`).
"""
from __future__ import annotations

import asyncio
import logging
import math
import multiprocessing
import time
from collections import OrderedDict
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from typing import TYPE_CHECKING

from bot.i18n import N_
from bot.safety.policy import ChannelKind, refusal, refused_category
from bot.safety.terms import Category

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.safety.decision import TextCheck

log = logging.getLogger(__name__)

# The anchor phrases, kept in this one place: short, plain descriptions of what each category means
# (not the word lists: those are the terms layer's job). A prompt near any anchor of a category
# scores high for it. Adding an anchor changes what the layer catches: re-run semantic-calibrate.
CONCEPTS: dict[Category, tuple[str, ...]] = {
    Category.SEXUAL: (
        "a naked woman",
        "a nude man",
        "a photo of a person with no clothes on",
        "explicit sexual intercourse",
        "a pornographic image",
        "a woman taking off her clothes",
        "exposed breasts and genitals",
        "an erotic photo of a couple having sex",
    ),
    Category.SEXUAL_MINORS: (
        "a naked child",
        "a nude teenage girl",
        "a sexualized picture of a young girl",
        "a child in a sexual pose",
        "an underage teenager in lingerie",
        "sexual content involving a minor",
    ),
    Category.NONCONSENSUAL: (
        "a woman being raped",
        "sexual assault of an unconscious person",
        "a person forced into sex against their will",
        "a drugged woman being undressed",
        "a hidden camera photo of a woman undressing",
    ),
    Category.GORE: (
        "a mutilated corpse with exposed organs",
        "a severed head in a pool of blood",
        "graphic gore, dismembered body parts",
        "a person being disembowelled",
        "a close-up of a gaping bloody wound with bone showing",
    ),
    Category.HATE: (
        "a nazi swastika flag",
        "nazi propaganda poster glorifying hitler",
        "a ku klux klan rally with a burning cross",
        "a racist caricature mocking a minority",
        "white supremacist symbols and slogans",
        "a poster calling for violence against an ethnic group",
    ),
}

DEFAULT_THRESHOLD = 0.85  # a placeholder until calibrated on the operator's model (README)
LOAD_TIMEOUT = 300.0  # seconds to load the encoder and embed the anchors (a big model from a slow disk)
SCORE_TIMEOUT = 15.0  # seconds for one prompt, waiting for a (re)starting child included
_CACHE_SIZE = 1024  # prompts remembered: delivery and /show ask again about the prompt screen scored

SEMANTIC_ERROR = N_("🚫 Your prompt could not be safety-checked (the meaning check did not answer), so it was "
                    "refused. Nothing was queued or charged; please try again.")
SEMANTIC_ERROR_DELIVERING = N_("🚫 Not delivered: the prompt could not be safety-checked again (the meaning "
                               "check did not answer), so the image was withheld. Nothing was charged; please "
                               "try again.")

class SemanticUnavailable(RuntimeError):
    """The semantic layer gave no usable answer (not loaded, crashed, timed out, nonsense)."""


def decide(scores: dict[Category, float], threshold: float, kind: ChannelKind) -> tuple[Category, float] | None:
    """The refusing category and its score, or None: every category at or over `threshold` counts,
    and the channel's policy picks (the most severe first, sexual and gore only outside NSFW)."""
    over = {category for category, score in scores.items() if score >= threshold}
    category = refused_category(over, kind)
    return None if category is None else (category, scores[category])


def _valid(raw: object) -> dict[Category, float]:
    """The child's answer as {category: cosine}, or SemanticUnavailable (NaN proves nothing)."""
    if not isinstance(raw, dict) or set(raw) != {c.value for c in CONCEPTS}:
        raise SemanticUnavailable(f"the semantic layer answered {raw!r}")
    scores = {}
    for name, value in raw.items():
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                or not -1.001 <= value <= 1.001:
            raise SemanticUnavailable(f"the semantic layer scored {name} as {value!r}")
        scores[Category(name)] = min(max(float(value), -1.0), 1.0)  # float noise around +-1
    return scores


class SemanticLayer:
    """The parent side: one child process, started at `start`, restarted after a crash or timeout."""

    def __init__(self, model: str, threshold: float = DEFAULT_THRESHOLD, *, load_timeout: float = LOAD_TIMEOUT,
                 score_timeout: float = SCORE_TIMEOUT):
        self.model = model
        self.threshold = threshold
        self.load_timeout = load_timeout
        self.score_timeout = score_timeout
        self._pool: ProcessPoolExecutor | None = None
        self._loaded: asyncio.Future | None = None
        self._cache: OrderedDict[str, dict[Category, float]] = OrderedDict()
        self.child_pid: int | None = None  # of the running child, for the log (and tests)

    def _launch(self) -> asyncio.Future:
        """A fresh child; the future resolves once it loaded the encoder and embedded the anchors."""
        from bot.safety import semantic_child

        self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
        anchors = {category.value: list(phrases) for category, phrases in CONCEPTS.items()}
        # A submitted task, not the pool's initializer: a failure then reaches this process with its
        # message (an initializer's exception only breaks the pool).
        self._loaded = asyncio.wrap_future(self._pool.submit(semantic_child.init, self.model, anchors))
        return self._loaded

    async def start(self) -> None:
        """Load the child before the bot takes prompts. A failure is logged; every prompt is then
        refused (semantic-error) and each one tries a fresh child."""
        t0 = time.perf_counter()
        try:
            info = await asyncio.wait_for(asyncio.shield(self._launch()), self.load_timeout)
        except Exception as exc:
            self._kill()
            log.error("the semantic prompt layer could not load %s (%s): every prompt is refused until it loads",
                      self.model, _describe(exc))
            return
        self.child_pid = info.get("pid")
        log.info("semantic prompt layer ready in %.1f s: %s (%s, %d anchors, threshold %.3f, child pid %s)",
                 time.perf_counter() - t0, info.get("encoder"), info.get("pooled"), info.get("anchors", 0),
                 self.threshold, self.child_pid)

    async def scores(self, prompt: str) -> dict[Category, float]:
        """The prompt's cosine similarity per category (the best anchor), or SemanticUnavailable."""
        if prompt in self._cache:
            self._cache.move_to_end(prompt)
            return self._cache[prompt]
        from bot.safety import semantic_child

        deadline = time.monotonic() + self.score_timeout
        if self._pool is None:
            self._launch()
        pool, loaded = self._pool, self._loaded  # this prompt's child, even if another prompt replaces it
        try:
            info = await asyncio.wait_for(asyncio.shield(loaded), max(deadline - time.monotonic(), 0.001))  # type: ignore[arg-type]
            self.child_pid = info.get("pid")
            raw = await asyncio.wait_for(asyncio.wrap_future(pool.submit(semantic_child.score, prompt)),  # type: ignore[union-attr]
                                         max(deadline - time.monotonic(), 0.001))
        except (asyncio.TimeoutError, BrokenProcessPool) as exc:
            # Stuck or dead: a fresh child for the next prompt (a stuck one would hold every later one).
            self._kill(pool)
            raise SemanticUnavailable(_describe(exc)) from exc
        except Exception as exc:
            if loaded.done() and not loaded.cancelled() and loaded.exception() is not None:  # type: ignore[union-attr]
                self._kill(pool)  # it never loaded: try a fresh child next time
            raise SemanticUnavailable(_describe(exc)) from exc
        scores = _valid(raw)
        self._cache[prompt] = scores
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return scores

    async def check(self, text: TextCheck, prompt: str, kind: ChannelKind, delivering: bool = False) -> TextCheck:
        """`text` (which the other layers let through), refused when the prompt's meaning is over the
        threshold for a category the channel does not allow, or when the layer cannot answer."""
        try:
            scores = await self.scores(prompt)
        except SemanticUnavailable as exc:
            log.warning("the semantic prompt layer gave no answer (%s): the prompt is refused "
                        "(layer semantic-error)", exc)
            return replace(text, category=Category.UNCHECKED,
                           reason=SEMANTIC_ERROR_DELIVERING if delivering else SEMANTIC_ERROR,
                           result=replace(text.result, score=None, layer="semantic-error"))
        decided = decide(scores, self.threshold, kind)
        if decided is None:
            return text
        category, score = decided
        log.info("the semantic prompt layer refused a prompt: %s %.3f (threshold %.3f)", category.value, score,
                 self.threshold)
        return replace(text, category=category, reason=refusal(category, kind, delivering),
                       result=replace(text.result, score=score, layer="semantic"))

    def _kill(self, pool: ProcessPoolExecutor | None = None) -> None:
        """Stop the child now (`pool`: only if it is still the current one), even a stuck one:
        shutdown alone waits for its task to end."""
        if pool is not None and pool is not self._pool:
            return  # another prompt already replaced it
        pool, self._pool, self._loaded, self.child_pid = self._pool, None, None, None
        if pool is None:
            return
        # Python 3.14 has terminate_workers(); before it the processes are only reachable here.
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            if process.is_alive():
                process.kill()
        pool.shutdown(wait=False, cancel_futures=True)

    async def close(self) -> None:
        self._kill()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError):
        return "timed out"
    if isinstance(exc, BrokenProcessPool):
        return "its child process died"
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:300]


def build_semantic(settings: Settings) -> SemanticLayer | None:
    """The layer SAFETY_SEMANTIC asks for (None when off: nothing is spawned)."""
    if not settings.safety_semantic:
        return None
    return SemanticLayer(settings.image_model, settings.safety_semantic_threshold)
