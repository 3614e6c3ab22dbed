"""`python -m bot.safety.train_classifier [--dev PATH] [--out PATH]`: train the learned layer.

Reproducible: a fixed seed, and only data in this repository:
- bot/safety/training/handwritten.txt: prompts written for this classifier (benign ones with traps:
  names, animals, food, fashion, medicine, history, minors in innocent scenes; unsafe ones in every
  category, paraphrased, misspelt and in six other languages, and the negative-prompt trick);
- bot/safety/training/legacy.txt: the project's earlier labelled prompts;
- bot/safety/training/round2.txt: a second round written for it (ordinary women and mothers, one-word
  and very short prompts, people dressing, and paraphrases of unsafe prompts in six languages);
  every bot/safety/training/*.txt is read;
- prompts composed from the slot lists below (TEMPLATES), a few thousand, drawn with the seed;
- prompts composed in twelve languages from bot/safety/train_slots3.py (third round), with the seed.
Each prompt is read as the filter reads it (PromptFilter.words: normalized, leet folded, typos
corrected), with its negative prompt appended after a marker word, so the classifier sees what the
rules see. Softmax regression over hashed features (bot/safety/classifier.py), L2-regularized,
full-batch Adam, benign weighted as much as the five unsafe classes together (see `train`: with
the six classes weighted equally, a prompt with little to go on scored 0.83 unsafe; now "woman"
scores 0.32 and "a woman on a beach" 0.22).

The threshold on the unsafe score is tuned on the development split only (--dev, default
tests/safety_set/dev.jsonl, skipped when absent): the lowest threshold (at least FLOOR = 0.76: below it, fresh
prompts in languages the training set holds few of were refused, and so were mundane ones written
by the lead after training, "a woman on a beach" at 0.69 and "a man on a beach" at 0.70) at which the
whole check (terms, rules and classifier) refuses at most 1% of the development benign prompts.
Never pass the test split here.
"""
from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import numpy as np

from bot.safety.classifier import CLASSES, PromptClassifier, classifier_input, features, save
from bot.safety.train_slots3 import composed_i18n

SEED = 20261204
DIM = 1 << 15
HERE = Path(__file__).parent

# Slots for composed prompts: {S} subject, {P} place, {T} style tag, {A} adult, {M} minor, {G} group,
# {V} an everyday activity, {O} an object or animal.
SLOTS = {
    "S": ["a woman", "a man", "a girl", "a young woman", "an elf woman", "a model", "a couple", "a lady",
          "a nurse", "a cheerleader", "an anime girl", "a cosplayer", "a housewife", "a businesswoman"],
    "A": ["a 25 year old woman", "an adult woman", "a 30yo man", "a grown woman", "an adult model", "a milf"],
    "M": ["a 12 year old girl", "a 14yo", "a little girl", "a schoolgirl", "a child", "a 10 year old boy",
          "a preteen", "a young teen", "an 8th grader", "a kid", "a toddler", "a 15-year-old", "a middle schooler",
          "a girl aged thirteen", "a 9 y/o", "a fifth grade girl", "an underage girl", "a little boy"],
    "P": ["in a bedroom", "on a beach", "in the shower", "on a couch", "in a hotel room", "in a forest",
          "in a locker room", "in an office", "on a bed", "in a bathtub", "by the pool", "in a studio"],
    "T": ["photorealistic", "8k", "oil painting", "anime style", "35mm film photo", "highly detailed",
          "masterpiece, best quality", "cinematic lighting", "digital art", "trending on artstation", ""],
    "G": ["jews", "black people", "muslims", "immigrants", "gay people", "mexicans", "roma", "asians",
          "refugees", "arabs", "transgender people"],
    "V": ["painting a mural", "fixing a bicycle", "teaching a class", "playing the violin", "riding a horse",
          "drinking coffee", "planting a tree", "climbing a mountain", "giving a speech", "baking bread",
          "writing a letter", "carrying groceries", "waiting for a train", "repairing a car engine",
          "getting dressed for work", "putting on a jacket", "holding an umbrella", "taking a selfie"],
    "O": ["a red fox", "a lighthouse", "a bowl of ramen", "a vintage car", "a dragon", "a castle",
          "a mountain lake", "a cat", "a city street", "a sailboat", "a forest cabin", "a robot"],
}
TEMPLATES: dict[str, list[str]] = {
    "benign": ["{S} {P}, {T}", "{S} reading a book {P}, {T}", "{S} in a summer dress {P}, {T}",
               "portrait of {S}, {T}", "{M} playing soccer in a park, {T}", "{M} at a birthday party, {T}",
               "{M} doing homework at a desk, {T}", "{M} flying a kite on a beach, {T}", "{O}, {T}",
               "{O} at sunset, {T}", "{S} walking a dog, {T}", "{S} cooking dinner, {T}",
               "{M} in a school uniform waiting for the bus, {T}", "{M} with a puppy, {T}",
               "a family photo with {M}, {T}", "{A} in a business suit, {T}", "{S} laughing with friends, {T}",
               "{G} celebrating a festival, {T}", "a history museum exhibit about world war two, {T}",
               "{S} in a wool coat {P}, {T}", "{O}, {T}|nsfw, nude, gore, blurry, lowres",
               "{S} {P}, {T}|worst quality, bad hands, extra fingers", "{S}", "{O}", "{S} {V}, {T}",
               "{S} {V} {P}", "{M} {V}, {T}", "{A} {V}"],
    "sexual": ["{S} naked {P}, {T}", "nude {S} {P}, {T}", "{S} taking off her clothes {P}, {T}",
               "{S} wearing nothing {P}, {T}", "{S} with her breasts exposed {P}, {T}", "topless {S} {P}, {T}",
               "{S} undressing {P}, {T}", "explicit sex, {S} {P}, {T}", "{A} nude {P}, {T}",
               "{S} stripping out of her lingerie {P}, {T}", "{S} spreading her legs {P}, nsfw, {T}",
               "{S} {P}, full body, {T}|clothes, clothing, underwear, censored", "erotic photo of {S} {P}, {T}",
               "{S} with no clothes on {P}, {T}", "{S} in a see-through top, nipples visible, {T}"],
    "sexual-minors": ["{M} naked {P}, {T}", "nude {M}, {T}", "{M} in lingerie {P}, {T}", "sexy {M} {P}, {T}",
                      "{M} taking off her clothes {P}, {T}", "{M} posing seductively in a bikini, {T}",
                      "{M} in her underwear {P}, provocative, {T}", "{M} topless {P}, {T}",
                      "{M} {P}, full body, {T}|clothes, dress, underwear", "erotic {M}, nsfw, {T}",
                      "{M} with no clothes {P}, {T}", "{S} {P}, {T}|adult, mature body, clothes"],
    "nonconsensual": ["{S} being raped {P}, {T}", "an unconscious {S} being undressed {P}, {T}",
                      "{S} forced to strip at gunpoint {P}, {T}", "a drugged woman being groped {P}, {T}",
                      "{S} tied up and sexually assaulted {P}, {T}", "hidden camera filming {S} undressing, {T}",
                      "{S} crying while being stripped {P}, {T}", "a man forcing himself on {S} {P}, {T}",
                      "upskirt photo of {S} on a train, {T}", "a sleeping woman being molested {P}, {T}"],
    "gore": ["{S} decapitated {P}, {T}", "a dismembered body {P}, {T}", "{S} with intestines spilling out, {T}",
             "a mutilated corpse {P}, {T}", "a man skinned alive, {T}", "a severed head on a table, {T}",
             "brains splattered on a wall, {T}", "a body cut in half, blood everywhere, {T}",
             "a man's arm ripped off, bloody stump, {T}", "a pile of mangled corpses, {T}",
             "graphic autopsy of {S}, organs exposed, {T}", "a face with the skin peeled off, {T}"],
    "hate": ["{G} depicted as rats, propaganda poster, {T}", "{G} as vermin, cartoon, {T}",
             "a poster saying kill all {G}, {T}", "nazi flag, heroic, {T}", "Hitler as a glorious hero, {T}",
             "a swastika banner at a rally, {T}", "KKK members burning a cross, {T}",
             "{G} should be exterminated, sign, {T}", "a celebration of the holocaust, {T}",
             "SS soldiers glorified, {T}", "white power propaganda, {T}", "{G} drawn as monkeys, {T}"],
}
COMPOSED_PER_TEMPLATE = 25


def _read(path: Path) -> list[tuple[str, str, str]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = [part.strip() for part in line.split(" | ")]
        if parts[0] not in CLASSES:
            raise ValueError(f"{path}: unknown category in {line!r}")
        rows.append((parts[0], parts[1], parts[2] if len(parts) > 2 else ""))
    return rows


def composed(rng: random.Random) -> list[tuple[str, str, str]]:
    rows = []
    for category, templates in TEMPLATES.items():
        for template in templates:
            for _ in range(COMPOSED_PER_TEMPLATE):
                text = template
                for slot, values in SLOTS.items():
                    while "{" + slot + "}" in text:
                        text = text.replace("{" + slot + "}", rng.choice(values), 1)
                prompt, _, negative = text.partition("|")
                rows.append((category, prompt.strip().rstrip(",").strip(), negative.strip()))
    return rows


def training_rows(rng: random.Random) -> list[tuple[str, str, str]]:
    training = HERE / "training"
    rows = [row for path in sorted(training.glob("*.txt")) for row in _read(path)] + composed(rng)
    rows += composed_i18n(rng)
    return list(dict.fromkeys(rows))


def classifier_text(prompt_filter, prompt: str, negative: str) -> str:
    return classifier_input(prompt_filter.words(prompt), prompt_filter.words(negative) if negative.strip() else [])


def _matrix(texts: list[str], dim: int):
    rows, cols, vals = [], [], []
    for number, text in enumerate(texts):
        index, weight = features(text, dim)
        rows.append(np.full(len(index), number, dtype=np.int64))
        cols.append(index)
        vals.append(weight)
    return np.concatenate(rows), np.concatenate(cols), np.concatenate(vals).astype(np.float32)


def train(texts: list[str], labels: np.ndarray, dim: int = DIM, epochs: int = 300, l2: float = 1e-5,
          lr: float = 0.05, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    rows, cols, vals = _matrix(texts, dim)
    n, k = len(texts), len(CLASSES)
    rng = np.random.default_rng(seed)
    weights = rng.normal(0.0, 0.01, size=(dim, k)).astype(np.float32)
    bias = np.zeros(k, dtype=np.float32)
    onehot = np.eye(k, dtype=np.float32)[labels]
    # Benign weighs as much as all unsafe classes together, and the unsafe classes equally among
    # themselves. (Weighting all six classes equally made benign's prior 1/6: a prompt with little to
    # go on, "woman" or "und", then scored 1 - 1/6 = 0.83 unsafe, over the threshold.)
    counts = np.maximum(np.bincount(labels, minlength=k), 1)
    class_weight = np.where(np.arange(k) == 0, n / (2 * counts), n / (2 * (k - 1) * counts))
    sample_weight = class_weight[labels].astype(np.float32)
    m_w, v_w, m_b, v_b = (np.zeros_like(weights), np.zeros_like(weights), np.zeros_like(bias), np.zeros_like(bias))
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for step in range(1, epochs + 1):
        logits = np.zeros((n, k), dtype=np.float32)
        np.add.at(logits, rows, vals[:, None] * weights[cols])
        logits += bias
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        probs /= probs.sum(axis=1, keepdims=True)
        delta = (probs - onehot) * sample_weight[:, None] / n
        grad_w = np.zeros_like(weights)
        np.add.at(grad_w, cols, vals[:, None] * delta[rows])
        grad_w += l2 * weights
        grad_b = delta.sum(axis=0)
        for param, grad, m, v in ((weights, grad_w, m_w, v_w), (bias, grad_b, m_b, v_b)):
            m *= beta1
            m += (1 - beta1) * grad
            v *= beta2
            v += (1 - beta2) * grad * grad
            param -= lr * (m / (1 - beta1 ** step)) / (np.sqrt(v / (1 - beta2 ** step)) + eps)
    return weights, bias


FLOOR = 0.76


def tune_threshold(model: PromptClassifier, dev: Path, budget: float = 0.01) -> tuple[float, str]:
    """The lowest threshold >= FLOOR at which the whole check refuses at most `budget` of dev's benign items."""
    from bot.safety.evaluate import evaluate, load
    from bot.safety.prompt_filter import PromptFilter

    items = load(dev)
    benign = sum(item.label == "benign" for item in items)
    for threshold in np.arange(FLOOR, 0.99, 0.02):
        candidate = PromptClassifier(model.name, model.weights, model.bias, float(threshold))
        report = evaluate(items, PromptFilter(candidate))
        if len({i.id for i, _, _ in report.false_positives}) <= budget * benign:
            return float(threshold), (f"dev {dev}: threshold {threshold:.2f}, FP {report.fp_rate:.1%}, "
                                      f"FN {report.fn_rate:.1%}")
    return 0.98, f"dev {dev}: no threshold met the FP budget; 0.98"


def main(argv: list[str] | None = None) -> int:
    from bot.safety.prompt_filter import PromptFilter

    parser = argparse.ArgumentParser(prog="python -m bot.safety.train_classifier", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dev", type=Path, default=Path("tests/safety_set/dev.jsonl"))
    parser.add_argument("--out", type=Path, default=HERE / "prompt_classifier.npz")
    parser.add_argument("--epochs", type=int, default=300)
    args = parser.parse_args(argv)
    rng = random.Random(SEED)
    rows = training_rows(rng)
    reader = PromptFilter()
    texts = [classifier_text(reader, prompt, negative) for _, prompt, negative in rows]
    labels = np.array([CLASSES.index(category) for category, _, _ in rows])
    counts = {c: int((labels == i).sum()) for i, c in enumerate(CLASSES)}
    print(f"training on {len(rows)} prompts: {counts}")
    weights, bias = train(texts, labels, epochs=args.epochs)
    model = PromptClassifier("trained", weights.astype(np.float16).astype(np.float32), bias, 0.5)
    predicted = np.array([CLASSES.index(model.predict(t)[1].value) if model.predict(t)[0] >= 0.5 else 0
                          for t in texts])
    print(f"training accuracy {float((predicted == labels).mean()):.3f}")
    threshold, note = (0.5, "no dev split: threshold 0.5")
    if args.dev.is_file():
        threshold, note = tune_threshold(model, args.dev)
    print(note)
    meta = json.dumps({"seed": SEED, "dim": DIM, "epochs": args.epochs, "training": counts, "tuning": note})
    save(args.out, weights, bias, threshold, meta)
    print(f"wrote {args.out} ({args.out.stat().st_size // 1024} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
