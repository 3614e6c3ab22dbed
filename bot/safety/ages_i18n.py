"""Ages and school grades in more languages (third round), read by normalize._ages.

An age is a number with the unit each language writes after it (Italian "14 anni" / "14enne",
Polish "13-latka", Turkish "14 yaşında", Dutch "12-jarig", Korean "15살" / "15세", Chinese "14岁"). A
school grade is a minor (it counts as ADULT_AGE - 1): a numbered class ("9. Klasse", "6 класса",
"7ª série", "7º ano", "3. sınıf"), a named one (Italian "terza media", French "élève de troisième",
Polish "gimnazjum", Dutch "brugklas", German "Siebtklässlerin"), an American high-school year
written with "hs" or "high school", Chinese 初三 / 高二 with a student word (alone, 初三 is also the
third day of a lunar month), and the Japanese letters JK / JC / JS beside Japanese text (school-girl
slang: joshi kōsei, chūgakusei, shōgakusei).
"""
from __future__ import annotations

import re
import unicodedata

_MINOR = 17  # a grade: under 18, as normalize's English grades count

# On the phonetic (transliterated, lowercase) text. A number with a unit: the unit decides.
_AGE = re.compile(r"(?<![\d.])\b(\d{1,2})\s*-?\s*(?:anni|enne|latka|latek|latki|letnia|letni|yasinda|yasindaki|"
                  r"yas|jarig|jarige|jaar oud)\b")
_ORDINAL = r"(?:\d{1,2})\s*(?:\.|a|o|e|eme|ieme|th|st|nd|rd|-?ste|-?de|-?ego|-?ej|-?j)?"
_GRADE = re.compile(
    rf"\b{_ORDINAL}\s+(?:klasse|klasa|klasy|klassa|klasse|klasses|sinif|sinifa|serie|ano|classe|groep)\b"
    r"|\b(?:klasse|klasa|klassa|classe|groep|grade|sinif)\s+\d{1,2}\b"
    r"|\b(?:prima|seconda|terza|1a|2a|3a) media\b|\bscuola (?:media|elementare|primaria)\b"
    r"|\b(?:delle|alle) elementari\b"
    r"|\b(?:eleve|eleves|lycee|lyceenne|college|collegienne) (?:de |en )?(?:sixieme|cinquieme|quatrieme|"
    r"troisieme|seconde|6e|5e|4e|3e|cm1|cm2|ce1|ce2)\b|\b(?:en|de) (?:sixieme|cinquieme|quatrieme|cm1|cm2)\b"
    r"|\bgimnazj\w*|\bpodstawowk\w*|\bszkoly podstawowej\b|\bbrugklas\w*|\bbasisschool\w*"
    r"|\b(?:erst|zweit|dritt|viert|funft|sechst|siebt|acht|neunt|zehnt|elft)klassler\w*"
    r"|\b(?:grundschul|hauptschul|realschul|mittelschul)\w*\b"
    r"|\b(?:hs|high school|highschool) (?:freshman|sophomore|junior|senior|freshmen|sophomores)\b"
    r"|\b(?:freshman|sophomore) (?:cheerleader|girl|boy|student)s?\b(?!.*\b(?:college|university|uni)\b)"
    r"|\b(?:ortaokul|ilkokul|lise) ogrencisi\b"
    r"|\b[1-6]\s*(?:o|a|er|ero)?\s+(?:de )?(?:eso|primaria)\b"
    r"|\b(?:alumna|alumno|nina|nino) de (?:la )?(?:eso|primaria)\b")
# On the prompt as written (NFKC).
_CJK_AGE = re.compile(r"(\d{1,2})\s*(?:岁|살|세)")
_CJK_GRADE = re.compile(r"(?:初[一二三]|高[一二三]|小学[一二三四五六]年级)(?:女生|男生|学生|学妹|少女|的)"
                        r"|(?:초등|중학|고등)\s*[1-6]\s*학년")
_JA_SCHOOLGIRL = re.compile(r"(?<![A-Za-z])J[KCS](?![A-Za-z])")
_JA_KANA = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


def more_ages(phonetic: str, raw: str = "") -> list[int]:
    """Ages (and grades, as 17) in `phonetic` (normalize's transliterated text) and `raw` (the
    prompt as written; empty for an ASCII prompt)."""
    ages = [int(value) for value in _AGE.findall(phonetic)]
    if _GRADE.search(phonetic):
        ages.append(_MINOR)
    if raw:
        text = unicodedata.normalize("NFKC", raw)
        ages += [int(value) for value in _CJK_AGE.findall(text)]
        if _CJK_GRADE.search(text) or (_JA_SCHOOLGIRL.search(text) and _JA_KANA.search(text)):
            ages.append(_MINOR)
    return ages
