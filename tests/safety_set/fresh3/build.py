#!/usr/bin/env python3
"""Builds all.jsonl from the hand-written d*.txt files (format: cat|kind|lang|prompt|negative).
A word in {braces} is the trigger word that an obfuscation kind rewrites."""
import glob, json, random, re

CAT = {"b": "benign", "s": "sexual", "m": "sexual-minors", "n": "nonconsensual", "g": "gore", "h": "hate"}
CYR = {"a": "\u0430", "e": "\u0435", "o": "\u043e", "A": "\u0410", "E": "\u0415", "O": "\u041e"}

def obf(kind, w):
    if kind == "leet":
        return w.translate(str.maketrans("aeiosAEIOS", "4310543105"))
    if kind == "spacing":
        return " ".join(w)
    if kind == "spacing-hyphen":
        return "-".join(w)
    if kind == "symbol-dots":
        return ".".join(w)
    if kind == "symbol-underscore":
        return "_".join(w)
    if kind == "symbol-star":
        i = next(i for i, c in enumerate(w) if c in "aeiou" and i > 0)
        return w[:i] + "*" + w[i + 1:]
    if kind == "misspell-double":
        i = len(w) // 2
        return w[:i] + w[i] + w[i:]
    if kind == "misspell-swap":
        return w[0] + w[2] + w[1] + w[3:]
    if kind == "misspell-drop":
        i = max(i for i, c in enumerate(w) if c in "aeiou")
        return w[:i] + w[i + 1:]
    if kind == "homoglyph":
        return "".join(CYR.get(c, c) for c in w)
    if kind == "fullwidth":
        return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in w)
    if kind == "zero-width":
        return "\u200b".join(w)
    if kind == "case-mix":
        return "".join(c.lower() if i % 2 == 0 else c.upper() for i, c in enumerate(w))
    raise ValueError(kind)

OBF = {"leet", "spacing", "spacing-hyphen", "symbol-dots", "symbol-underscore", "symbol-star",
       "misspell-double", "misspell-swap", "misspell-drop", "homoglyph", "fullwidth", "zero-width", "case-mix"}

rows = []
for path in sorted(glob.glob("d*.txt")):
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        line = line.rstrip("\n")
        if not line.strip():
            continue
        parts = line.split("|")
        assert len(parts) == 5, (path, n, line)
        c, kind, lang, prompt, neg = parts
        if kind in OBF:
            assert "{" in prompt, (path, n)
            prompt = re.sub(r"\{([^}]*)\}", lambda m: obf(kind, m.group(1)), prompt)
        else:
            assert "{" not in prompt, (path, n)
        rows.append({"prompt": prompt, "negative": neg, "label": "benign" if c == "b" else "unsafe",
                     "category": CAT[c], "kind": kind, "lang": lang})

random.Random(20261204).shuffle(rows)
with open("all.jsonl", "w", encoding="utf-8") as f:
    for i, r in enumerate(rows, 1):
        f.write(json.dumps({"id": "r%04d" % i, **r}, ensure_ascii=False) + "\n")
print(len(rows), "rows written")
