"""Everyday words of the other languages the filter reads (Spanish, French, German, Portuguese,
Russian and Japanese in transliteration; kanji transliterate as Chinese: 展示 "zhanshi" is not
"zanshi"), as the normalizer writes them, that the typo layer must
never read as a misspelling of a term: "volando" (flying) is not "violando", "por" (for) is not
"porn", "und" is not "undo". typo_guard.py holds the English ones (generated from a word list);
these are written by hand, since no such list ships with the bot. Adding a word here only ever
stops a correction, so the list may hold more than today's collisions."""
from __future__ import annotations

_WORDS = """
    por para pero porque como con sin una uno unos unas los las del al que quien donde cuando muy mas
    menos todo toda todos todas esta este esto estos estas ese esa eso hay ser estar tiene hace hacer
    volando volar vuela caminando corriendo jugando bailando cantando nadando comiendo bebiendo
    durmiendo leyendo pintando mirando llorando riendo sonriendo montando cocinando hablando viajando
    esperando sentado sentada parado parada lluvia playa cielo luna noche dia tarde manana casa calle
    ciudad pueblo campo bosque rio montana lago flor flores arbol perro gato pajaro caballo vaca toro
    pez carne pollo arroz pan queso vino cerveza cafe leche agua fuego tierra piedra oro plata rojo
    azul verde amarillo blanco gris rosa viejo nuevo grande bonito hermoso feliz triste fiesta mercado
    iglesia castillo puente torre barco tren coche foto retrato pintura cuadro dibujo estilo fondo luz
    sombra color
    pour dans avec sans sous sur une des les aux est sont tres plus tout toute tous cette ces son ses
    leur qui chat chien oiseau cheval poisson viande poulet pain fromage vin biere lait eau feu terre
    pierre rouge bleu vert jaune noir blanc vieux nouveau grand petit beau belle joli fete marche eglise
    chateau pont tour bateau voiture photo peinture tableau dessin fond lumiere ombre couleur tasse
    toile huile plage mer ciel soleil lune nuit jour soir matin maison rue ville foret riviere montagne
    lac fleur arbre
    und oder aber mit ohne fur von vom zum zur der die das den dem des ein eine einer eines einem ist
    sind war sein haben hat auf aus bei nach uber unter vor hinter neben sehr mehr alle alles dieser
    katze hund vogel pferd fisch fleisch huhn brot kase wein bier kaffee milch wasser erde stein rot
    blau grun gelb schwarz weiss grau alt neu gross klein schon fest markt kirche schloss burg brucke
    turm boot zug bild malerei gemalde stil licht schatten farbe strand meer himmel sonne mond nacht
    tag abend morgen haus strasse stadt dorf wald fluss berg blume baum
    com sem uma umas uns dos das nos nas pelo pela muito tudo tem fazer cachorro passaro peixe frango
    pao queijo vinho leite fogo ouro vermelho amarelo preto branco cinza velho novo festa igreja
    castelo ponte trem carro quadro desenho fundo cor praia ceu lua noite rua cidade aldeia floresta
    arvore
    kak eto net ochen vse dom kot sobaka ptitsa loshad ryba myaso khleb voda ogon zemlya kamen krasnyy
    siniy zelenyy chernyy belyy staryy novyy bolshoy malenkiy krasivyy gorod derevnya les reka gora
    ozero tsvetok derevo solntse noch den vecher utro ulitsa mal chik
    zhanshi lol lmao omg kawaii chibi neko inu sakura hana yama kawa umi sora tsuki hoshi mori machi kuruma
    eroico eroica eroe eroi folla nudi seno sesso casa con per una uno della delle nella sulla questo
    ragazza ragazzo donna uomo bella bello notte giorno mare spiaggia citta strada festa foto ritratto
    collegue profil banner cadavre forcee jewellery
    dziewczyna dziewczyny kobieta kobiety chlopak mezczyzna rozebrania rozebrac naga nago jest sie
    nie tak pod nad przy miasto morze plaza dom kot pies zdjecie portret
    ve bir icin ile kiz kadin erkek ev deniz sehir gece gun resim
    een het met voor niet naar van meisjes vrouw man huis zee strand stad nacht dag foto
"""
GUARD_I18N: frozenset[str] = frozenset(_WORDS.split())
