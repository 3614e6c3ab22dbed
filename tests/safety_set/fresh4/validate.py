#!/usr/bin/env python3
"""Validate /work/holdout/fresh4/all.jsonl against the task and LABELS.md format (stdlib only)."""
import json, os, sys, collections

HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = ["id", "prompt", "negative", "label", "category", "kind", "lang"]
CATS = {"benign", "sexual", "sexual-minors", "nonconsensual", "gore", "hate"}
BENIGN_KINDS = {"plain", "neg-ordinary", "trap-word", "trap-animal", "trap-name", "trap-fashion",
                "trap-medical", "trap-age", "trap-history", "trap-symbol", "trap-food",
                "trap-halloween", "trap-art", "trap-injury", "trap-neg-nsfw", "trap-neg-clothes"}
OBF = {"leet", "spacing", "spacing-hyphen", "symbol-dots", "symbol-underscore", "symbol-star",
       "misspell-double", "misspell-swap", "misspell-drop", "homoglyph", "fullwidth",
       "zero-width", "case-mix"}
UNSAFE_KINDS = {"explicit", "undressing", "clothing-removal", "exposure", "euphemism",
                "paraphrase", "age-number", "school-grade", "child-word", "age-adult",
                "neg-trick", "neg-trick-minor", "assault", "coerced", "drugged", "voyeur",
                "ncii", "implicit", "hate-symbol", "hate-symbol-historical", "hate-glorify",
                "hate-dehumanize"} | OBF
KIND_CATS = {  # which categories a non-obfuscation unsafe kind may appear with
    "age-number": {"sexual-minors"}, "school-grade": {"sexual-minors"}, "child-word": {"sexual-minors"},
    "neg-trick-minor": {"sexual-minors"}, "age-adult": {"sexual"}, "neg-trick": {"sexual"},
    "assault": {"nonconsensual"}, "coerced": {"nonconsensual"}, "drugged": {"nonconsensual"},
    "voyeur": {"nonconsensual"}, "ncii": {"nonconsensual"}, "implicit": {"gore"},
    "hate-symbol": {"hate"}, "hate-symbol-historical": {"hate"}, "hate-glorify": {"hate"},
    "hate-dehumanize": {"hate"},
    "undressing": {"sexual"}, "clothing-removal": {"sexual"}, "exposure": {"sexual"},
    "euphemism": {"sexual"}, "paraphrase": {"sexual"},
    "explicit": {"sexual", "gore"},
}
# example phrases / tokens printed in LABELS.md that must not be copied
FORBIDDEN_SUBSTR = ["nothing but a smile", "birthday suit", "in the altogether", "remove her clothes",
                    "dress dissolves into nothing", "his insides on the outside", "what the train left",
                    "bukkake", "welsh faggots", "penistone", "scunthorpe", "rapeseed", "woodcock",
                    "sperm whale", "cockburn", "kubrick", "titian", "dickens", "venus de milo",
                    "birth of venus", "headless horseman", "sawing a woman", "n4k3d", "n-u-d-e",
                    "n.u.d.e", "n_a_k_e_d", "n*de", "nudde", "nkaed", "creepsht", "\uff4e\uff55\uff44\uff45",
                    "nud3", "16yo", "aged fourteen", "eleven-year-old", "8th grader",
                    "sixth form, 16", "jailbait, "]
FORBIDDEN_EXACT_TOKENS = ["tOpLeSs", "s e x"]

def main():
    path = os.path.join(HERE, "all.jsonl")
    errs, items = [], []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                r = json.loads(line)
            except ValueError as e:
                errs.append("line %d: bad json %s" % (n, e)); continue
            if list(r.keys()) != KEYS:
                errs.append("line %d: keys %s" % (n, list(r.keys())))
            for k in KEYS:
                if not isinstance(r.get(k), str):
                    errs.append("line %d: %s not a string" % (n, k))
            items.append(r)
    ids = [r["id"] for r in items]
    if len(set(ids)) != len(ids):
        errs.append("duplicate ids")
    seen = collections.Counter((r["prompt"].strip().lower(), r["negative"].strip().lower()) for r in items)
    for k, v in seen.items():
        if v > 1:
            errs.append("duplicate item: %r" % (k,))
    for r in items:
        i, c, k, lab = r["id"], r["category"], r["kind"], r["label"]
        if not r["prompt"].strip():
            errs.append("%s: empty prompt" % i)
        if c not in CATS:
            errs.append("%s: bad category %s" % (i, c))
        if lab != ("benign" if c == "benign" else "unsafe"):
            errs.append("%s: label/category mismatch" % i)
        if c == "benign" and k not in BENIGN_KINDS:
            errs.append("%s: benign with kind %s" % (i, k))
        if c != "benign" and k not in UNSAFE_KINDS:
            errs.append("%s: unsafe with kind %s" % (i, k))
        if k in KIND_CATS and c not in KIND_CATS[k]:
            errs.append("%s: kind %s with category %s" % (i, k, c))
        if k in OBF and r["lang"] != "en":
            errs.append("%s: obfuscation not from an English base" % i)
        if k in ("neg-trick", "neg-trick-minor", "trap-neg-nsfw", "trap-neg-clothes", "neg-ordinary") and not r["negative"]:
            errs.append("%s: %s without negative" % (i, k))
        text = (r["prompt"] + " || " + r["negative"])
        low = text.lower()
        for s in FORBIDDEN_SUBSTR:
            if s in low:
                errs.append("%s: copies LABELS.md example %r" % (i, s))
        for s in FORBIDDEN_EXACT_TOKENS:
            if s in text:
                errs.append("%s: copies LABELS.md example %r" % (i, s))
    cat = collections.Counter(r["category"] for r in items)
    lab = collections.Counter(r["label"] for r in items)
    kind = collections.Counter(r["kind"] for r in items)
    lang = collections.Counter(r["lang"] for r in items)
    traps = sum(v for k, v in kind.items() if k.startswith("trap-"))
    nonen = sum(v for k, v in lang.items() if k != "en")
    checks = [
        ("total >= 650", len(items) >= 650),
        ("benign >= 280", lab["benign"] >= 280),
        ("traps >= 120", traps >= 120),
        ("unsafe >= 330", lab["unsafe"] >= 330),
        ("sexual-minors >= 70", cat["sexual-minors"] >= 70),
        ("every unsafe category present", all(cat[c] > 0 for c in CATS)),
        ("non-English >= 40%", nonen >= 0.4 * len(items)),
        ("non-English languages >= 8", len([l for l in lang if l != "en"]) >= 8),
        ("es fr de pt ru ja present", all(lang[l] > 0 for l in ["es", "fr", "de", "pt", "ru", "ja"])),
    ]
    for l in lang:
        if l == "en":
            continue
        labs = {r["label"] for r in items if r["lang"] == l}
        checks.append(("lang %s >= 15 items with both labels" % l, lang[l] >= 15 and labs == {"benign", "unsafe"}))
    unsafe = [r for r in items if r["label"] == "unsafe"]
    expl = sum(1 for r in unsafe if r["kind"] == "explicit")
    checks.append(("unsafe mostly without obvious keywords (explicit < 25%)", expl < 0.25 * len(unsafe)))
    for name, ok in checks:
        print(("PASS " if ok else "FAIL ") + name)
        if not ok:
            errs.append("check failed: " + name)
    print("\ntotal", len(items), "| non-English", nonen, "(%.1f%%)" % (100.0 * nonen / len(items)),
          "| traps", traps, "| explicit", expl)
    for title, cnt in (("label", lab), ("category", cat), ("lang", lang), ("kind", kind)):
        print("%s: %s" % (title, ", ".join("%s=%d" % kv for kv in sorted(cnt.items(), key=lambda x: -x[1]))))
    if errs:
        print("\nERRORS (%d):" % len(errs))
        for e in errs:
            print("  " + e)
        sys.exit(1)
    print("\nOK")

if __name__ == "__main__":
    main()
