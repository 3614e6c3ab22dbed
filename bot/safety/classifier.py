"""The learned layer: a hashed character n-gram logistic-regression classifier in pure numpy.

Input: the prompt's words as the rules read them (normalized, leet folded, misspellings corrected;
see prompt_filter._rule_words), so it learns what obfuscation the normalizer already undid only once.
Features: character 2- to 5-grams inside " word " boundaries and word 1- and 2-grams, hashed
(CRC-32: stable across processes, unlike Python's hash()) into `dim` buckets, counts log-scaled and
L2-normalized. Output: a softmax over CLASSES; the unsafe score is 1 - P(benign) and the category
the most probable unsafe class. `threshold` (tuned on the development split, stored with the
weights) decides when the score counts as a hit.

Weights: bot/safety/prompt_classifier.npz (package data), trained by `python -m
bot.safety.train_classifier`. SAFETY_PROMPT_CLASSIFIER=builtin (default) loads it, a path loads
another .npz of the same format, `none` runs without the learned layer.
"""
from __future__ import annotations

import functools
import zlib
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np

from bot.errors import ConfigError
from bot.safety.terms import Category

CLASSES = ("benign", "sexual", "sexual-minors", "nonconsensual", "gore", "hate")
BUILTIN = "builtin"
NEGATIVE_MARK = "negprompt"  # the classifier reads "prompt words negprompt negative words"
FORMAT_VERSION = 1


@functools.lru_cache(maxsize=100_000)
def _hash(text: str) -> int:
    return zlib.crc32(text.encode())


def classifier_input(prompt_words: list[str], negative_words: list[str]) -> str:
    text = " ".join(prompt_words)
    return f"{text} {NEGATIVE_MARK} {' '.join(negative_words)}" if negative_words else text


def features(text: str, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """(bucket indices, weights) of one text's hashed features, weights L2-normalized. The negative
    prompt's words (after NEGATIVE_MARK) hash apart from the prompt's: "nude" steering away from
    nudity is a different feature from "nude" asking for it."""
    prompt, _, negative = text.partition(f" {NEGATIVE_MARK} ")
    grams: dict[int, float] = {}
    for salt, part in (("", prompt), ("n:", negative)):
        words = part.split()
        for word in words:
            padded = f" {word} "
            for n in (2, 3, 4, 5):
                for i in range(len(padded) - n + 1):
                    key = _hash(salt + padded[i:i + n]) % dim
                    grams[key] = grams.get(key, 0.0) + 1.0
            key = _hash(f"{salt}w:{word}") % dim
            grams[key] = grams.get(key, 0.0) + 1.0
        for first, second in zip(words, words[1:], strict=False):
            key = _hash(f"{salt}b:{first} {second}") % dim
            grams[key] = grams.get(key, 0.0) + 1.0
    if not grams:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
    index = np.fromiter(grams.keys(), dtype=np.int64, count=len(grams))
    weight = np.log1p(np.fromiter(grams.values(), dtype=np.float32, count=len(grams)))
    weight /= np.linalg.norm(weight)
    return index, weight


@dataclass(frozen=True)
class PromptClassifier:
    name: str
    weights: np.ndarray  # (dim, classes) float32
    bias: np.ndarray  # (classes,)
    threshold: float

    @property
    def dim(self) -> int:
        return self.weights.shape[0]

    def probabilities(self, text: str) -> np.ndarray:
        index, weight = features(text, self.dim)
        logits = self.bias + weight @ self.weights[index] if len(index) else self.bias.copy()
        logits = logits - logits.max()
        exp = np.exp(logits)
        return exp / exp.sum()

    def predict(self, text: str) -> tuple[float, Category]:
        """(unsafe score 0..1, the most probable unsafe category)."""
        probs = self.probabilities(text)
        category = CLASSES[1 + int(np.argmax(probs[1:]))]
        return float(1.0 - probs[0]), Category(category)


def save(path: Path, weights: np.ndarray, bias: np.ndarray, threshold: float, meta: str) -> None:
    np.savez_compressed(path, weights=weights.astype(np.float16), bias=bias.astype(np.float32),
                        threshold=np.float32(threshold), classes=np.array(CLASSES),
                        version=np.int32(FORMAT_VERSION), meta=np.array(meta))


def _load_npz(source, name: str) -> PromptClassifier:
    with np.load(source, allow_pickle=False) as data:
        missing = {"weights", "bias", "threshold", "classes", "version"} - set(data.files)
        if missing:
            raise ConfigError(f"SAFETY_PROMPT_CLASSIFIER={name}: not a prompt classifier (missing {sorted(missing)})")
        if int(data["version"]) != FORMAT_VERSION or tuple(data["classes"].tolist()) != CLASSES:
            raise ConfigError(f"SAFETY_PROMPT_CLASSIFIER={name}: format {int(data['version'])} with classes "
                              f"{data['classes'].tolist()}, expected format {FORMAT_VERSION} with {list(CLASSES)}")
        weights = data["weights"].astype(np.float32)
        bias = data["bias"].astype(np.float32)
        threshold = float(data["threshold"])
    if weights.ndim != 2 or weights.shape[1] != len(CLASSES) or bias.shape != (len(CLASSES),):
        raise ConfigError(f"SAFETY_PROMPT_CLASSIFIER={name}: weights of shape {weights.shape}, expected (dim, "
                          f"{len(CLASSES)})")
    if not 0.0 < threshold < 1.0:
        raise ConfigError(f"SAFETY_PROMPT_CLASSIFIER={name}: threshold {threshold} is not between 0 and 1")
    return PromptClassifier(name, weights, bias, threshold)


@functools.lru_cache(maxsize=8)
def load_classifier(setting: str) -> PromptClassifier | None:
    """`builtin`, a path to an .npz, or `none` (None). A bad file is a ConfigError at start-up."""
    if setting == "none":
        return None
    if setting == BUILTIN:
        with resources.files("bot.safety").joinpath("prompt_classifier.npz").open("rb") as handle:
            return _load_npz(handle, BUILTIN)
    path = Path(setting).expanduser()
    if not path.is_file():
        raise ConfigError(f"SAFETY_PROMPT_CLASSIFIER={setting}: no such file (builtin, none or the path of an .npz)")
    try:
        return _load_npz(path, setting)
    except ConfigError:
        raise
    except Exception as exc:  # a truncated or foreign file: numpy raises several kinds
        raise ConfigError(f"SAFETY_PROMPT_CLASSIFIER={setting}: cannot be read as an .npz ({exc})") from exc
