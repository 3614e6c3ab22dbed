#!/usr/bin/env python3
"""Validate all.jsonl (stdlib only). Exit status 0 when every check passes."""
import collections, json, os, re, sys

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "all.jsonl")
KEYS = ["id", "prompt", "negative", "label", "category", "kind", "lang"]
CATS = {"benign", "sexual", "sexual-minors", "nonconsensual", "gore", "hate"}
TRAPS = {"trap-word", "trap-animal", "trap-name", "trap-fashion", "trap-medical", "trap-age",
         "trap-history", "trap-symbol", "trap-food", "trap-halloween", "trap-art", "trap-injury",
         "trap-neg-nsfw", "trap-neg-clothes"}
BENIGN_KINDS = {"plain", "neg-ordinary"} | TRAPS
OBF = {"leet", "spacing", "spacing-hyphen", "symbol-dots", "symbol-underscore", "symbol-star",
       "misspell-double", "misspell-swap", "misspell-drop", "homoglyph", "fullwidth", "zero-width", "case-mix"}
UNSAFE_KINDS = {"explicit", "undressing", "clothing-removal", "exposure", "euphemism", "paraphrase",
                "age-number", "school-grade", "child-word", "age-adult", "neg-trick", "neg-trick-minor",
                "assault", "coerced", "drugged", "voyeur", "ncii", "implicit", "hate-symbol",
                "hate-symbol-historical", "hate-glorify", "hate-dehumanize"} | OBF
MINIMA = {"total": 600, "benign": 270, "benign-traps": 130, "sexual": 75, "sexual-minors": 60,
          "nonconsensual": 55, "gore": 60, "hate": 60}
REQUIRED_LANGS = ["es", "fr", "de", "pt", "ru", "ja"]

errors = []
def err(msg):
    errors.append(msg)

rows = []
with open(PATH, encoding="utf-8") as f:
    for n, line in enumerate(f, 1):
        try:
            r = json.loads(line)
        except ValueError as e:
            err("line %d: does not parse: %s" % (n, e)); continue
        if not isinstance(r, dict) or list(r.keys()) != KEYS:
            err("line %d: keys are %r, want %r" % (n, list(r) if isinstance(r, dict) else r, KEYS)); continue
        if not all(isinstance(r[k], str) for k in KEYS):
            err("line %d: non-string value" % n)
        rows.append((n, r))

seen_prompts = {}
for i, (n, r) in enumerate(rows, 1):
    if r["id"] != "r%04d" % i:
        err("line %d: id %s, expected r%04d (unique, sequential)" % (n, r["id"], i))
    if r["category"] not in CATS:
        err("line %d: bad category %r" % (n, r["category"]))
    want = "benign" if r["category"] == "benign" else "unsafe"
    if r["label"] != want:
        err("line %d: label %r inconsistent with category %r" % (n, r["label"], r["category"]))
    kinds = BENIGN_KINDS if r["category"] == "benign" else UNSAFE_KINDS
    if r["kind"] not in kinds:
        err("line %d: kind %r not allowed for category %r" % (n, r["kind"], r["category"]))
    if r["kind"] == "neg-trick-minor" and r["category"] != "sexual-minors":
        err("line %d: neg-trick-minor outside sexual-minors" % n)
    if r["kind"] in ("neg-trick", "neg-trick-minor", "trap-neg-nsfw", "trap-neg-clothes", "neg-ordinary") and not r["negative"]:
        err("line %d: kind %s needs a negative" % (n, r["kind"]))
    if not re.fullmatch(r"[a-z]{2}", r["lang"]):
        err("line %d: bad lang %r" % (n, r["lang"]))
    if not r["prompt"].strip():
        err("line %d: empty prompt" % n)
    if r["category"] == "sexual-minors" and len(r["prompt"]) > 100:
        err("line %d: sexual-minors prompt longer than 100 chars (keep short)" % n)
    key = re.sub(r"\s+", " ", r["prompt"].casefold()).strip()
    if key in seen_prompts:
        err("line %d: duplicate prompt of line %d" % (n, seen_prompts[key]))
    seen_prompts[key] = n

recs = [r for _, r in rows]
cat = collections.Counter(r["category"] for r in recs)
counts = {"total": len(recs), "benign": cat["benign"],
          "benign-traps": sum(r["kind"] in TRAPS for r in recs)}
for c in CATS - {"benign"}:
    counts[c] = cat[c]
for k, v in MINIMA.items():
    if counts[k] < v:
        err("count %s = %d, below minimum %d" % (k, counts[k], v))
if sum(counts[c] for c in CATS - {"benign"}) < 320:
    err("unsafe total below 320")
for t in sorted(TRAPS):
    if sum(r["kind"] == t for r in recs) < 5:
        err("trap kind %s has fewer than 5 items" % t)
non_en = sum(r["lang"] != "en" for r in recs)
if recs and non_en / len(recs) < 0.25:
    err("non-English share %.1f%% below 25%%" % (100.0 * non_en / len(recs)))
langlab = collections.Counter((r["lang"], r["label"]) for r in recs)
for l in REQUIRED_LANGS:
    for lab in ("benign", "unsafe"):
        if langlab[(l, lab)] < 1:
            err("language %s has no %s item" % (l, lab))
extra = {l for (l, _) in langlab if l not in REQUIRED_LANGS + ["en"]}
if len(extra) < 2:
    err("fewer than two languages beyond en/es/fr/de/pt/ru/ja")
for cat_name in CATS - {"benign"}:
    if not any(r["lang"] != "en" for r in recs if r["category"] == cat_name):
        err("no non-English item in %s" % cat_name)

print("== category x label")
cl = collections.Counter((r["category"], r["label"]) for r in recs)
for (c, l), v in sorted(cl.items()):
    print("  %-15s %-7s %4d" % (c, l, v))
print("  unsafe total    %4d" % sum(r["label"] == "unsafe" for r in recs))
print("  benign traps    %4d" % counts["benign-traps"])
print("  total           %4d" % len(recs))
print("== kind")
for k, v in sorted(collections.Counter(r["kind"] for r in recs).items()):
    print("  %-24s %4d" % (k, v))
print("== lang (all / benign / unsafe)")
for l, v in sorted(collections.Counter(r["lang"] for r in recs).items(), key=lambda x: -x[1]):
    print("  %-3s %4d %4d %4d" % (l, v, langlab[(l, "benign")], langlab[(l, "unsafe")]))
print("  non-English share: %.1f%%" % (100.0 * non_en / max(1, len(recs))))

if errors:
    print("\nFAILED: %d problem(s)" % len(errors))
    for e in errors[:50]:
        print("  " + e)
    sys.exit(1)
print("\nOK: all checks passed")
