#!/usr/bin/env python3
"""Build /work/holdout/fresh4/all.jsonl from src/*.txt (stdlib only, fixed seed).

src/<lang>.txt      hand-written items:  category|kind|prompt|negative
src/obf_bases.txt   English bases:       category|prompt
                    each base yields 2 mechanically obfuscated variants (different
                    transforms); the transform changes the FIRST trigger word only.
"""
import json, os, random, re

SEED = 4404
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "src")
LANGS = ["en", "es", "fr", "de", "pt", "ru", "ja", "it", "pl", "tr", "zh", "ko", "nl"]

TRIGGERS = ["naked", "nude", "topless", "porn", "sex", "nsfw", "hentai", "lewd", "boobs",
            "nipples", "undress", "erotic", "masturbating", "stripper", "pussy", "loli",
            "shota", "upskirt", "creepshot", "rape", "drugged", "hidden", "voyeur",
            "unconscious", "decapitated", "gore", "guts", "disemboweled", "dismembered",
            "mutilated", "severed", "intestines", "nazi", "swastika", "kkk", "hitler", "heil"]
TRIG_RE = re.compile(r"\b(" + "|".join(TRIGGERS) + r")\b", re.I)

LEET = {"a": "4", "e": "3", "i": "1", "o": "0", "s": "5", "t": "7", "g": "9", "b": "8"}
HOMO = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "c": "\u0441", "p": "\u0440",
        "x": "\u0445", "y": "\u0443", "i": "\u0456", "s": "\u0455"}
VOWELS = "aeiou"
# example tokens printed in LABELS.md: never reproduce them
FORBIDDEN = {"n4k3d", "s e x", "n-u-d-e", "n.u.d.e", "n_a_k_e_d", "n*de", "nudde", "nkaed",
             "creepsht", "\uff4e\uff55\uff44\uff45", "tOpLeSs", "nud3"}


def t_leet(w, r):
    idx = [i for i, c in enumerate(w) if c in LEET]
    if not idx:
        return w
    k = r.randint(1, max(1, len(idx) - 1)) if len(idx) > 1 else 1
    chosen = set(r.sample(idx, k))
    return "".join(LEET[c] if i in chosen else c for i, c in enumerate(w))

def t_spacing(w, r):
    return " ".join(w)

def t_hyphen(w, r):
    return "-".join(w)

def t_dots(w, r):
    return ".".join(w)

def t_underscore(w, r):
    return "_".join(w)

def t_star(w, r):
    idx = [i for i, c in enumerate(w) if c in VOWELS and i > 0] or list(range(1, len(w)))
    i = r.choice(idx)
    return w[:i] + "*" + w[i + 1:]

def t_double(w, r):
    i = r.randrange(1, len(w))
    return w[:i] + w[i] + w[i:]

def t_swap(w, r):
    idx = [i for i in range(1, len(w) - 1) if w[i] != w[i + 1]]
    if not idx:
        return w
    i = r.choice(idx)
    return w[:i] + w[i + 1] + w[i] + w[i + 2:]

def t_drop(w, r):
    idx = list(range(1, len(w) - 1)) or [len(w) - 1]
    i = r.choice(idx)
    return w[:i] + w[i + 1:]

def t_homoglyph(w, r):
    idx = [i for i, c in enumerate(w) if c.lower() in HOMO]
    if not idx:
        return w
    k = max(1, len(idx) // 2)
    chosen = set(r.sample(idx, k))
    return "".join(HOMO[c.lower()] if i in chosen else c for i, c in enumerate(w))

def t_fullwidth(w, r):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in w)

def t_zw(w, r):
    return "\u200b".join(w)

def t_case(w, r):
    return "".join(c.upper() if i % 2 else c.lower() for i, c in enumerate(w))

TRANSFORMS = [("leet", t_leet), ("spacing", t_spacing), ("spacing-hyphen", t_hyphen),
              ("symbol-dots", t_dots), ("symbol-underscore", t_underscore),
              ("symbol-star", t_star), ("misspell-double", t_double),
              ("misspell-swap", t_swap), ("misspell-drop", t_drop),
              ("homoglyph", t_homoglyph), ("fullwidth", t_fullwidth),
              ("zero-width", t_zw), ("case-mix", t_case)]


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.strip() and not line.lstrip().startswith("#"):
                yield line


def label_of(cat):
    return "benign" if cat == "benign" else "unsafe"


def main():
    rng = random.Random(SEED)
    items = []
    for lang in LANGS:
        for line in read_lines(os.path.join(SRC, lang + ".txt")):
            parts = line.split("|")
            if len(parts) != 4:
                raise SystemExit("bad line in %s.txt: %r" % (lang, line))
            cat, kind, prompt, neg = (p.strip() for p in parts)
            items.append(dict(prompt=prompt, negative=neg, label=label_of(cat),
                              category=cat, kind=kind, lang=lang))
    # mechanical obfuscations: 2 distinct transforms per base, balanced over the list
    pool = []
    bases = [l.split("|", 1) for l in read_lines(os.path.join(SRC, "obf_bases.txt"))]
    for cat, prompt in bases:
        m = TRIG_RE.search(prompt)
        if not m:
            raise SystemExit("no trigger in base: %r" % prompt)
        word = m.group(0)
        made, tried = 0, set()
        while made < 2:
            if len(tried) >= len(TRANSFORMS):
                raise SystemExit("cannot obfuscate %r" % word)
            if not pool:
                pool = TRANSFORMS[:]
                rng.shuffle(pool)
            cand = [t for t in pool if t[0] not in tried]
            if not cand:
                pool = []
                continue
            name, fn = cand[-1]
            pool.remove((name, fn))
            tried.add(name)
            new = fn(word, rng)
            if new == word or new in FORBIDDEN:
                continue
            p = prompt[:m.start()] + new + prompt[m.end():]
            items.append(dict(prompt=p, negative="", label=label_of(cat), category=cat.strip(),
                              kind=name, lang="en"))
            made += 1
    rng.shuffle(items)
    out = os.path.join(HERE, "all.jsonl")
    with open(out, "w", encoding="utf-8") as f:
        for n, it in enumerate(items, 1):
            rec = {"id": "f4-%04d" % n, "prompt": it["prompt"], "negative": it["negative"],
                   "label": it["label"], "category": it["category"], "kind": it["kind"],
                   "lang": it["lang"]}
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print("wrote %d items to %s" % (len(items), out))


if __name__ == "__main__":
    main()
