"""Terms in Italian, Polish, Turkish and Dutch (words, normalized like terms_i18n's), and in Chinese
and Korean (substrings of the prompt's own text, like terms_i18n.CJK for Japanese).

Third round: these six languages had only the learned layer. As in terms_i18n, a word that is also an
ordinary word in English or another supported language is left out or written as a phrase: Polish
"naga" is also the serpent of Hindu myth (a rule in rules_round3 reads it beside Polish words),
Italian "nudo" is Spanish for a knot, Dutch "blote" is in "blote voeten" (bare feet), "kind" is
English, Korean 노출 is also a camera's exposure (장노출, a long exposure), Chinese 初一 is the first
day of a lunar month (school grades are in ages_i18n, with a student word).
"""
from __future__ import annotations

import re

from bot.safety.terms import Category

S, MI, SM, N, G, H = (Category.SEXUAL, Category.MINORS, Category.SEXUAL_MINORS, Category.NONCONSENSUAL,
                      Category.GORE, Category.HATE)
SUG = Category.SUGGESTIVE

NATIVE3: dict[Category, str] = {
    S: """
        nuda, nudi, uomo nudo, ragazzo nudo, corpo nudo, nudo integrale, senza vestiti, senza veli, seno nudo,
        seni nudi, tette, sesso, scopare, scopata, pompino, pornografico, erotico, erotica, spogliata, spogliato,
        si spoglia, spogliarsi, spogliandosi, in topless,
        nago, nagie, nagich, nagiej, bez ubrania, bez ubran, rozebrana, rozebrany, rozbiera sie, rozbierajaca,
        goła kobieta, goła dziewczyna, golutka, cycki, seks, ruchanie, erotyczne, erotyczny, pornografia,
        ciplak, cirilciplak, mustehcen, seks, sevisme, gogusleri acik, soyunan, soyunmus, soyunuyor,
        naakt, naakte, poedelnaakt, neuken, tieten, uitkleden, kleedt zich uit, ontkleed, ontklede,
        zonder kleren, zonder kleding, erotisch, erotische
    """,
    SUG: """
        provocante, provocanti, seducente, seducenti, zmyslowa, prowokacyjna, prowokacyjnie, kiskirtici, uitdagend,
        verleidelijk, reggiseno, mutandine, intimo, biancheria intima, bielizna, stanik, majtki, ic camasiri, sutyen,
        ondergoed, lingerie, beha
    """,
    MI: """
        bambina, bambine, bambino, bambini, ragazzina, ragazzine, ragazzino, ragazzini, minorenne, minorenni,
        scolaretta, scolarette, liceale, liceali,
        dziewczynka, dziewczynki, chlopiec, chlopczyk, dziecko, dzieci, nieletnia, nieletni, uczennica,
        uczennice, nastolatka, nastolatki, gimnazjalistka, podstawowki,
        cocuk, cocugu, kucuk kiz, kiz cocugu, ortaokul, ilkokul, liseli, resit olmayan,
        meisje, meisjes, jongetje, jongetjes, kleuter, minderjarig, minderjarige, scholiere, schoolmeisje,
        klein kind, jong meisje,
        novinha, novinhas, novinho
    """,
    SM: """
        pedopornografia, pornografia minorile, pornografia dziecieca, cocuk pornosu, kinderporno
    """,
    N: """
        stupro, stuprata, stuprare, violentata, violentare, violenza sessuale, senza consenso, telecamera nascosta,
        gwalt, zgwalcona, zgwalcony, gwalci, molestowana, ukryta kamera, bez zgody,
        tecavuz, tecavuze, taciz, gizli kamera, rizasi olmadan,
        verkrachting, verkracht, verkrachte, verborgen camera, zonder toestemming
    """,
    G: """
        smembrato, smembrata, sbudellato, sbudellata, budella, viscere, cadavere mutilato, testa mozzata,
        wnetrznosci, odcieta glowa, scieta glowa, odcieta reka,
        kafasi kesilmis, kesik kafa, parcalanmis ceset, organlari disarida,
        ingewanden, verminkt lijk, verminkte lijk, verminkte lichaam
    """,
    H: """
        svastica, svastiche, esvasticas, suasticas, svastikas, saluto nazista, swastyka, swastyki, gamali hac,
        hakenkruis
    """,
}

PREFIXES3: dict[str, Category] = {
    "rozczlonkow": G, "onthoofd": G, "smembr": G, "zgwalc": N, "verkracht": N, "stupr": N, "tecavuz": N,
    "wnetrznos": G, "bielizn": SUG, "spappolat": G, "rozszarp": G,
}

# Regular expressions over the prompt (NFKC, without spaces), Chinese then Korean in each group; the
# look-aheads keep the everyday senses (成人 words aside): 断头台 a guillotine, 누드톤 a nude colour,
# 성기사 a paladin.
CJK3: dict[Category, tuple[str, ...]] = {
    SUG: ("内衣", "性感", "속옷", "섹시"),
    S: ("色情", "做爱", "性交", "脱光", "一丝不挂", "全裸",
        "알몸", "나체", "누드(?!톤|컬러|베이지|메이크업|립|색)", "야한", "섹스", "포르노", "성기(?!사)", "젖꼭지",
        "벗은몸", "가슴노출", "옷을벗"),
    MI: ("初中", "小学",
         "初中生", "小学生", "中学生", "女童", "男童", "幼女", "萝莉", "未成年", "儿童", "小女孩", "小男孩", "高中生",
         "女初中", "女高中",
         "소녀", "소년", "어린이", "초등학생", "중학생", "여중생", "여고생", "고등학생", "미성년", "아동", "여아",
         "초딩", "중딩", "고딩"),
    SM: ("儿童色情", "幼女色情", "아동포르노", "아동음란"),
    N: ("强奸", "迷奸", "轮奸", "偷拍", "性侵", "강간", "성폭행", "몰래카메라", "몰카", "도촬", "성추행"),
    G: ("(?:腕|脚|足|首|頭)が?(?:千切れ|ちぎれ|もげ)", "머리가잘린", "목이잘린",
        "断头(?!台)", "斩首", "肢解", "碎尸", "鲜血喷溅", "血肉模糊", "피범벅", "참수", "토막살인", "토막난",
        "절단된시체", "내장이"),
}
CJK3_PATTERNS: tuple[tuple[Category, re.Pattern], ...] = tuple(
    (category, re.compile("|".join(patterns))) for category, patterns in CJK3.items())


def native_terms3() -> dict[Category, tuple[str, ...]]:
    """The comma-separated entries of NATIVE3, per category."""
    return {category: tuple(t.strip() for t in text.replace("\n", " ").split(",") if t.strip())
            for category, text in NATIVE3.items()}
