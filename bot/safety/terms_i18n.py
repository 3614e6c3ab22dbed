"""Terms in Spanish, French, German, Portuguese, Russian and Japanese, as a native speaker writes
them, translated and transliterated.

Written in their own script and normalized with the prompt normalizer when the filter is built, so a
term matches what the normalizer makes of a prompt: "голая" and "golaya" are one word, "Mädchen"
and "madchen" too. Words that are also ordinary words in English or another of these languages are
left out or given as phrases ("bite", "chatte" and "Schwanz" mean other things too; "petite fille"
is a phrase; French "négro" is left out: it normalizes to "negro", black in Spanish and Portuguese).
Japanese is written without spaces, so its terms (kanji and kana) are searched as substrings of the
prompt's own text (see rules.py); their romaji spellings are words here.
"""
from __future__ import annotations

from bot.safety.terms import Category

S, MI, SM, N, G, H = (Category.SEXUAL, Category.MINORS, Category.SEXUAL_MINORS, Category.NONCONSENSUAL,
                      Category.GORE, Category.HATE)

# Words and phrases (one per line-separated comma list), by category.
NATIVE: dict[Category, str] = {
    S: """
        desnuda, desnudas, desnudo, desnudos, desnudez, sin ropa, tetas, pechos desnudos, sexo,
        follando, follar, chupando pollas, pornografia, pornografica, erotica, erotico, coito, semen,
        nue, nues, toute nue, tout nu, homme nu, corps nu, garçon nu, modèle nu, nu intégral, posant nu,
        seins nus, déshabillée, deshabille, sexe, baise, baiser avec,
        pornographique, érotique, masturbation, fellation, salope,
        nackt, nackte, nackten, nackter, nacktes, nacktheit, entkleidet, titten, brüste, ficken, fickt,
        gefickt, muschi, geschlechtsverkehr, nacktbild, nacktfoto, erotisch, pornografisch,
        nua, nuas, pelada, peladas, despida, despidas, desnudada, desnudando, despindo, ausgezogen,
        entblößt, sem roupa, peitos, seios nus, buceta, transando, transar,
        sexo oral, pornografia, erótica,
        голая, голый, голые, голое, голую, обнажённая, обнаженная, обнажённый, обнажённые, без одежды,
        секс, порно, эротика, эротический, сиськи, трах, трахает, трахаются, голышом,
        hadaka, zenra, oppai, etchi, sekkusu, ero manga, ero gazou, chikubi,
        zieht sich aus, ausziehen, auszieht, zog sich aus, entkleidet sich, oben ohne, se déshabille,
        se déshabiller, se déshabillant, à poil, quitándose la ropa, se quita la ropa, desvistiéndose,
        desnudándose, tirando a roupa, tira a roupa, se despindo, раздевается, раздевающаяся, раздетая,
        раздетый, раздеваясь,
        faire l'amour, font l'amour, hacer el amor, haciendo el amor, hacen el amor, fazer amor, fazendo amor,
        fazem amor, liebe machen, занимаются любовью, занимается любовью, ohne kleidung, ohne kleider,
        sans vêtements, sans habits
    """,
    Category.SUGGESTIVE: """
        сексуальная, сексуальный, сексуальные, нижнее белье, нижнем белье, нижнем белье, lencería,
        ropa interior, sexi, seductora, sensual, unterwäsche, dessous, sinnlich, verführerisch,
        sous-vêtements, sensuelle, provocante, sexy, roupa íntima, calcinha, sutiã, sedutora, sensuale
    """,
    MI: """
        niña, niñas, niño, niños, niñita, menor de edad, menores de edad, colegiala, colegialas,
        adolescente, adolescentes, preadolescente, chiquilla,
        enfant, enfants, fillette, fillettes, petite fille, petit garçon, écolière, écolier, mineure,
        collégienne, lycéenne, préadolescente,
        kleines kind, nacktes kind, kleines mädchen, kleine mädchen, kleiner junge, schülerin, schulmädchen,
        minderjährig, minderjährige, minderjährigen, jugendliche, teenagerin,
        criança, crianças, menina, meninas, menino, meninos, colegial, menor de idade,
        ребёнок, ребенок, дети, девочка, девочки, мальчик, мальчики, школьница, школьницы, школьник,
        подросток, несовершеннолетняя, несовершеннолетний, малолетка,
        shoujo, shojo, youjo, joshikousei, joshi kousei, joshi chuugakusei, shougakusei, chuugakusei
    """,
    SM: """
        pornografía infantil, pornographie infantile, pédopornographie, kinderpornografie,
        kinderporno, kinderpornos, pornografia infantil, детское порно, педофил, педофилия,
        lolikon, rorikon, jidou poruno
    """,
    N: """
        violación, violada, violado, violar, violando, abuso sexual, sin consentimiento,
        violée, violer, violé, agression sexuelle, sans consentement, viol d'une, viol de, viol collectif,
        scène de viol, victime de viol,
        vergewaltigung, vergewaltigt, vergewaltigen, vergewaltigte, sexueller missbrauch,
        estupro, estuprada, estuprar, abuso sexual, sem consentimento,
        изнасилование, изнасилована, изнасиловал, насилуют, насилует, chikan, goukan, reipu
    """,
    G: """
        decapitado, decapitada, descuartizado, descuartizada, desmembrado, desmembrada, vísceras,
        tripas fuera, cadáver mutilado, degollado, destripado, sangre a borbotones,
        décapité, décapitée, démembré, démembrée, éventré, éventrée, cadavre mutilé, égorgé,
        enthauptet, enthauptete, zerstückelt, zerstückelte, eingeweide, verstümmelt, verstümmelte,
        leiche zerstückelt, blutüberströmt, aufgeschlitzt,
        decapitada, esquartejado, esquartejada, desmembrado, vísceras expostas, mutilado, mutilada,
        degolado, estripado,
        обезглавленный, обезглавленная, расчленённый, расчлененный, расчленёнка, расчлененка,
        кишки наружу, отрубленная голова, изуродованный труп, выпотрошенный,
        écorché vif, écorchée vive, visage écorché, muscles à vif, chair à vif, desollado vivo, desollada viva,
        despellejado, despellejada, lebendig gehäutet, esfolado vivo, esfolada viva, освежёванный,
        zanshi, bunkatsu shitai, tête coupée, tête tranchée, têtes coupées, abgetrennter kopf,
        abgeschlagener kopf, cabeza cortada, cabeça decepada, cabeça cortada
    """,
    H: """
        sudaca, sudacas, negrata, negratas, maricón, maricones, sieg heil, heil hitler,
        youpin, youpins, bougnoule, bougnoules, bicot,
        hakenkreuz, judensau, kanake, kanaken, neger, untermensch, untermenschen, zigeunerpack,
        macaco preto, viado, viados, crioulo safado,
        хайль гитлер, свастика, жид, жиды, жидов, хач, хачи, чурка, чурки, ниггер, ниггеры,
        nachizumu, kagijuuji
    """,
}

# Word starts (in the normalizer's alphabet) that only begin flagged words in these languages: the
# endings of Russian, Spanish, Portuguese and German inflect ("расчленённое", "расчленённый").
PREFIXES_I18N: dict[str, Category] = {
    "raschlenen": G, "obezglavl": G, "zerstuckel": G, "verstummel": G, "enthaupt": G, "desmembr": G,
    "descuartiz": G, "esquartej": G, "demembr": G, "decapit": G, "degoll": G, "egorge": G,
    "eingeweid": G, "vergewaltig": N, "tousatsu": N, "hakenkreuz": H, "despedaz": G, "minderjahrig": MI,
    "iznasil": N, "estupr": N,
    "obnazhenn": S, "pornograf": S, "nacktbild": S, "nacktfoto": S,
    "pedofil": SM, "pedopornogr": SM, "kinderporn": SM,
}

# Japanese terms searched as substrings of the prompt (NFKC, spaces and invisible characters removed).
CJK: dict[Category, tuple[str, ...]] = {
    Category.SUGGESTIVE: ("セクシー", "下着", "ランジェリー", "誘惑", "水着姿"),
    S: ("全裸", "裸の", "裸で", "ヌード", "エロ", "セックス", "おっぱい", "乳首", "性器", "ポルノ", "性行為",
        "半裸", "脱衣", "オナニー", "フェラ", "パンチラ"),
    MI: ("少女", "幼女", "女子高生", "女子中学生", "中学生", "小学生", "子供", "子ども", "児童", "ロリ", "ショタ",
         "未成年", "幼児", "男の子", "女の子"),
    SM: ("児童ポルノ", "ロリコン", "ショタコン"),
    N: ("強姦", "レイプ", "痴漢", "無理やり", "凌辱", "陵辱", "盗撮", "隠し撮り", "隠しカメラ", "睡眠姦"),
    G: ("血まみれ", "内臓", "斬首", "切断された", "バラバラ死体", "惨殺", "グロ", "臓物", "首なし"),
    H: ("ハーケンクロイツ", "鉤十字", "ナチス万歳", "ハイルヒトラー"),
}


def native_terms() -> dict[Category, tuple[str, ...]]:
    """The comma-separated entries of NATIVE, per category."""
    return {category: tuple(t.strip() for t in text.replace("\n", " ").split(",") if t.strip())
            for category, text in NATIVE.items()}
