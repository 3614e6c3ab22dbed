"""Third-round rules for what paraphrases share (rules.py and rules_paraphrase.py hold the first two).

Same form: word groups with bounded gaps over the prompt's normalized words, some with a context
that must appear anywhere (`needs`). Themes:
- nudity without a nudity word: idioms ("in Adam's costume", "as God made her", "wearing only a
  smile"), no fabric left, clothing fading to skin, edit requests that take clothes off a picture;
  undressing in Italian, Polish, Turkish and Dutch, and the garments those and Spanish name;
- non-consent: forced or blackmailed undressing (eight languages), up-skirt and down-blouse shots,
  a body part zoomed on while "she doesn't know", groping a frightened woman, a nude made of a real
  person (my ex, my colleague, a named streamer, "from her profile picture", deepfakes), someone
  asleep or passed out with clothing lifted;
- implied gore: "what was left of him after ...", in nine languages; remains found, bodies missing
  their heads, a fall from a height, acid on a face, a mine's red mist, raw stumps, insides showing;
- hate: coded slogans and numbers (RaHoWa, "day of the rope", 1488, HH 88, "white pride world
  wide"), the antisemitic triple parentheses and puppet-master caricature, the Nazis, fascists and
  mass murderers shown as saints or heroes (also in Italian, Portuguese, Chinese and Korean).
"""
from __future__ import annotations

import re
import unicodedata

from bot.safety.rules import _SACRED, RuleHit
from bot.safety.rules_paraphrase import MORE_GROUPS, expand_groups
from bot.safety.terms import Category
from bot.safety.terms_i18n3 import CJK3_PATTERNS

S, N, G, H = Category.SEXUAL, Category.NONCONSENSUAL, Category.GORE, Category.HATE

GROUPS3: dict[str, str] = {
    **MORE_GROUPS,
    "GARMENT3": """reggiseno maglietta camicia gonna mutandine vestiti vestito costume bikini
        stanik majtki bluzke bluzka sukienke sukienka spodnice ubranie ubrania
        kiyafet* elbise* sutyen* gomlek*
        kleren kleding jurk rok beha bh ondergoed
        sosten brasier sujetador blusa camiseta falda ropa bragas bikini top shirt bra dress skirt nightie
        nightgown nuisette robe chemise jupe soutien camison""",
    "STRIPPED3": """undressed stripped despida despido desnudada desnudado ausgezogen rozebrana uitgekleed spogliata
        deshabillee razdeta razdeli zdejmuja zdejmuje zdejmujac retirent retire enleve enlevent soyulan soyuluyor
        uitkleden spogliano desnudan despem despindo""",
    "LIFT3": """lifts lifting lifted lift pulls up pulling up pulled up raises raising raised alza alzando
        solleva sollevando souleve soulevant releve levanta levantando hebt hochgezogen podnosi podciaga
        kaldir* pushes up pushed up""",
    "ASLEEP3": """asleep sleeping blacked out passed out unconscious drugged drunk endormie endormi dormida
        dormido addormentata addormentato svenuta spiaca nieprzytomna uyuyan baygin sarhos slapende
        bewusteloos schlafende schlafend bewusstlos inconsciente desmayada desmaiada desmaiado pijana pijany
        ubriaca ubriaco betrunken betrunkene borracha ivre bebada dronken sarhos""",
    "FORCED3": """forced, made to, obligada a, obligado a, forzada a, forcee de, forcee a, forcée, obrigada a,
        forcada a, costretta a, costretto a, zmuszona do, zmuszony do, zmuszaja, zorla, gezwungen, gezwungen sich,
        muss sich, erpresste, erpresst, blackmailed, blackmail, gedwongen, gedwongen om, chantage""",
    "UNDRESS3": """undress, strip naked, strip off, strip down, strip for, strip in front,
        desnudarse, desvestirse, quitarse la ropa, se deshabiller, despir se, tirar a roupa,
        spogliarsi, rozebrania, rozebrac, rozbierac, soyunmaya, soyunma, ausziehen, auszuziehen, uitkleden,
        kleren uit te trekken""",
    "NUDEWORD3": """nude, nudes, naked, topless, undressed, nsfw, nue, nues, nu, nuda, nudo, nackt, nacktbild,
        nacktfoto, desnuda, desnudo, pelada, nua, naakt, naga, ciplak, porn, lewd""",
    "KNOWN3": """my ex, my coworker, my co worker, my colleague, my neighbor, my neighbour, my teacher, my boss,
        my classmate, my stepsister, my roommate, my crush, my cousin, my aunt, my sister in law,
        ma collegue, ma voisine, mon ex, ma prof, mi ex, mi companera, mi vecina, mi jefa,
        mia collega, mia vicina, la mia ex, la mia collega, la mia vicina, la mia prof,
        meiner nachbarin, meiner kollegin, meiner ex, meine nachbarin, meine kollegin, meine ex,
        minha colega, minha vizinha, minha ex, mojej kolezanki, mojej sasiadki, mojej ex,
        mijn collega, mijn buurvrouw, mijn ex""",
    "SOURCE3": """profile picture, profile pic, profile photo, her instagram, his instagram, instagram photo,
        this pic, this photo, this picture, this image, the attached, attached pic, attached photo, from her photo,
        photo de profil, foto del profilo, foto de perfil, profilbild, instagram foto, zdjecia profilowego,
        profielfoto, her face, su cara, sa tete, seine gesicht, her selfie, their selfie""",
    "PUBLIC3": """streamer, youtuber, tiktoker, influencer, actress, actor, singer, celebrity, pop star, popstar,
        politician, news anchor, twitch streamer, cosplayer, vtuber""",
    "REMAINS3": """what remained of, what remains of, what was left of, whats left of, what is left of, what s left of,
        lo que quedo d, lo que queda d, ce qu il restait d, ce qu il reste d, ce qui restait d,
        ce qui reste d, quel che resta d, quel che restava d, quello che resta d, cio che resta d,
        quel che rimane d, to co zostalo z, to co zostalo ze, to co zostalo po, co zostalo z, was von,
        was vom, o que restou d, o que sobrou d, to chto ostalos ot, geriye kalan, geriye kalanlar,
        wat er over is van, wat er overbleef van, the remains of, restos d, restes d, resti d, szczatki,
        overblijfselen van""",
    "WHOLE3": """him, her, them, lui, elle, lei, ihm, ihr, man, woman, person, body, victim, victims, driver, worker,
        farmer, gardener, mechanic, fisherman, sailor, boxer, runner, surfer, tourist, hunter, guy, bro, baby,
        soldier, rider, hiker, skier, swimmer, miner, pilot, boy, girl, child, kid, family,
        motorcyclist, cyclist, pedestrian, biker, jumper, diver, climber, passenger,
        homme, femme, corps, conducteur, ouvrier, motard, soldat, uomo, donna, corpo, autista, operaio, motociclista,
        hombre, mujer, cuerpo, conductor, trabajador, ciclista, soldado, homem, mulher, motorista, *arbeiter,
        mann, mannes, radfahrer, radfahrers, pilot, pilote, piloto,
        frau, korper, fahrer, fahrers, soldaten, kierowcy, czlowieka, mezczyzny, kobiety, ciala,
        robotnika, zolnierza, adamdan, adamin, kadindan, cesetten, cheloveka, muzhchiny, zhenshchiny, tela,
        voditelya, soldata, de man, de vrouw, het lichaam, de bestuurder""",
    "EVENT3": """after, from, apres, dopo, despues, nach, po, posle, sonra, na, following, when, once,
        explosion, blast, crash, accident, train, bomb, mine, esplosione, explosion, wybuchu, wypadku,
        patlamadan, kazadan, vzryva, explosao, acidente, ontploffing, ongeluk""",
    "PHOTO3": """photo, photoreal, photorealistic, realistic, realistico, realistyczne, realista, realiste, realistisch,
        gercekci, foto, real, reale, close up, closeup, hyper detailed, detailed, graphic, fotografia, zdjecie""",
    "SAINT3": """saint, a saint, halo, golden halo, martyr, hero, heroes, heroic, heroica, heroico, eroe, eroi, eroico,
        heros, held, helden, heldin, bohater, bohaterem, kahraman, legend, savior, saviour, icon, stained glass,
        shrine, reverent, worship, tribute, homage, homenagem, homenaje, hommage, omaggio, celebrativo,
        celebrating, crown, king, fan art, idol, inspiring, inspirador, inspiradora, inspirant, epic, epico, epica,
        glorious, glorioso, gloriosa, glorieux""",
    "KILLER3": """elliot rodger, supreme gentleman, dylann roof, anders breivik, breivik, brenton tarrant, tarrant,
        payton gendron, patrick crusius, robert bowers, timothy mcveigh, christchurch shooter, atirador de
        christchurch, tirador de christchurch, tireur de christchurch, attentatore di christchurch, utoya shooter,
        buffalo shooter, el paso shooter, isla vista shooter, charleston shooter, incel hero, incel saint""",
    "FASCIST3": """hitler, adolf hitler, mussolini, il duce, nazi, nazis, nazista, nazisti, nazisty, nazistowski,
        third reich, terzo reich, waffen ss, svastica, swastika, swastyka, hakenkreuz, hakenkruis""",
}

_RULES3: tuple[tuple[Category, str, str | None], ...] = (
    # nudity idioms in six languages, and "wearing only a smile"
    (S, r"\b(?:in|en) (?:(?:his|her|their) )?(?:adam s|adams|eve s|eves) (?:costume|costumes|suit|outfit)\b"
        r"|\b\w*(?:adams|evas)kostum\w*\b|\btenue d (?:eve|adam)\b|\bcomo dios (?:la|lo|los|las|me|te) (?:trajo|"
        r"echo|hizo) al mundo\b|\bcomo (?:veio|veio ao|veio a) (?:ao )?mundo\b|\bwie gott (?:sie|ihn|mich) "
        r"(?:schuf|geschaffen hat)\b|\bcome mamma (?:l ha|la ha|lo ha) fatt[ao]\b|\bw stroju (?:adama|ewy)\b"
        r"|\b(?:bare|naked|nude) as the day (?:she|he|they|you) (?:was|were) born\b|\ben cueros\b"
        r"|\bin (?:her|his|their) birthday suits?\b|\bas god (?:made|created) (?:her|him|them)\b", None),
    (S, r"\bwearing (?:only|just|nothing but|nothing except) (?:a |an |her |his )?(?:smile|smiles|grin|pearls|"
        r"necklace|jewelry|jewellery|high heels|heels|stockings|body paint|perfume)\b", None),
    (S, r"\b(?:clad|dressed|wearing|draped|garbed|attired) (?:\w+ ){0,1}in nothing (?:but|except|save|other than)\b"
        r"|\b(?:senza|con) niente addosso\b|\bsin nada (?:encima|puesto)\b|\bsans rien sur (?:le dos|elle|lui|soi)\b"
        r"|\bsem nada no corpo\b|\b(?:hat|tragt|trug) nichts an\b|\bnic na sobie\b|\bheeft niets aan\b"
        r"|\b(?:devetue|devetu|devetues|desvestida|desvestido|svestita|svestito|entkleidete)\b", None),
    (S, r"\b(?:no|without any|without a single|zero) (?:fabric|cloth|clothing|garment|garments|thread) "
        r"(?:anywhere|at all|whatsoever)\b|\b(?:sem|sin|senza|bez|zonder) (?:nenhuma|ninguna|alcuna|zadnego|enig) "
        r"(?:\w+ ){0,2}(?:roupa|ropa|vestito|ubrania|kleding|kleren)\b|\bsin nada de ropa\b", None),
    (S, r"\b(?:gown|dress|clothes|clothing|outfit|robe|nightgown|shirt) (?:\w+ ){0,3}(?:melts|melting|melted|fades|"
        r"fading|faded|dissolves|dissolving|dissolved|vanishes|vanishing|vanished|disappears|disappearing|disappeared|"
        r"turned into|turns into|turning into|flew off|flies off|flew away|blew away|blows away|crumbles|crumbled)\b",
        r"\b(?:skin|naked|nude|bare body|bare skin|nothing left|nothing remains|uncovered|nothing on)\b"),
    (S, r"\b(?:(?:no|without (?:a|her|any)) (?:top|shirt|bra) on|(?:with no|without (?:a|her|any)) (?:top|bra))\b"
        r"(?! (?:hat|hats|of|floor|shelf|layer|coat|part|half|speed|score|spot|tier|priority))",
        r"\b(?:she|her|woman|girl|lady|gf|girlfriend)\b"),
    (S, r"\b(?:delete|remove|erase|take off|get rid of|edit out|cut out) (?:the |her |his |their |all )?(?:\w+ ){0,1}"
        r"(?:bikini|clothes|clothing|dress|top|shirt|bra|underwear|swimsuit|outfit|panties|lingerie) (?:\w+ ){0,4}"
        r"(?:pic|photo|picture|image|attached|underneath|under it|beneath)\b|\bshow (?:what s|whats|what is) "
        r"(?:underneath|under (?:it|her clothes|the clothes)|beneath)\b", None),
    (S, r"\b(?:mostra|mostrando|mostra il|pokazuje|pokazujac|gosteren|toont|laat) (?:\w+ ){0,1}(?:seno|seni|tette|"
        r"piersi|cycki|gogus\w*|borsten|tieten)\b", None),
    (S, r"\b(?:senza|bez|zonder) (?:reggiseno|stanika|beha|bh)\b",
        r"\b(?:seno|piersi|borsten|mostra|nuda|naga|naakt)\b"),
    # undressing in Italian, Polish, Turkish, Dutch (and garments Spanish and others name)
    (S, r"\b(?:{REMOVE18}|togli\w*|zdejmuje|zdejmujac|sciaga\w*|cikar\w*|uittrekken|uit trekken) "
        r"(?:\w+ ){0,2}{GARMENT3}\b", None),
    (S, r"\bsnimi\w* (?:\w+ ){0,3}(?:odezhd\w*|plat\w*|bel\w*|trus\w*)\b", None),
    (S, r"\bnaga\b", r"\b(?:kobieta|dziewczyna|dziewczynka|uczennica|latka|pani|zdjecie|modelka|na|w|sie|jest|"
                     r"calkiem|zupelnie|lozku|plazy|prysznicem|lat)\b"),
    # non-consent: forced or blackmailed undressing
    (N, r"\b{FORCED3} (?:\w+ ){0,4}(?:{UNDRESS3}|{REMOVE18} (?:\w+ ){0,2}{GARMENT18}|ausziehen|ausgezogen|"
        r"undressed|stripped|naked|nude)\b", None),
    (N, r"\b(?:{UNDRESS3}|ausziehen|undressing|stripping) (?:\w+ ){0,6}(?:crying|weeping|scared|terrified|afraid|"
        r"asustada|llorando|pleure|en larmes|piange|piangendo|placze|placzac|aglayan|aglarken|weinend|weint|"
        r"huilend|huilt|chorando|plachet)\b", r"\b{FORCED3}|kidnapper|porywacz\w*|captor\b"),
    (N, r"\bsexually (?:assault\w*|abus\w*|molest\w*|violat\w*)\b", None),
    # drink spiked, or someone out cold, then undressed or touched
    (N, r"\b(?:(?:slip|slips|slipped|slipping|spike|spikes|spiked|spiking|drug|drugs|drugged|drugging|"
        r"roofie\w*|dose|dosed)|(?:pill|pills|powder|sedative|sedatives|tranquil\w*|ghb|rohypnol|sleeping pill|"
        r"something) (?:\w+ ){0,2}(?:in|into)) (?:\w+ ){0,6}(?:drink|wine|beer|glass|coffee|cocktail|soda|juice|"
        r"tea)\b (?:\w+ ){0,10}(?:undress\w*|strip\w*|"
        r"take her clothes|takes her clothes|touch\w*|grop\w*|have sex|naked|nude|clothes off|undo her)\b", None),
    (N, r"\b(?:once|after|when|until|while) (?:she|he|they) (?:s |is |are |has |have )?(?:passes|passed|pass|blacks|"
        r"blacked|black|is|s)? ?(?:out|unconscious|asleep)\b", r"\b(?:undress\w*|strip\w*|naked|nude|grop\w*|"
        r"touch\w*|clothes off|take her clothes|sex|sexual)\b"),
    (N, r"\b(?:secretly|heimlich|en secreto|a escondidas|en cachette|en secret|di nascosto|potajemnie|gizlice|stiekem|"
        r"tayno|escondido) (?:\w+ ){0,8}(?:{NUDEWORD3}|undress\w*|showering|shower|dusche\w*|douche|ducha|doccia|"
        r"prysznic\w*|dus\w*|changing room|kleedkamer|umkleide)\b", None),
    # a refusal ignored, written with the apostrophe ("didn't stop" reads "didn t stop")
    (N, r"\b{SAIDNO} (?:no|stop)\b (?:\w+ ){0,4}(?:didn t|did not|doesn t|does not|wouldn t|won t|don t|never) "
        r"(?:stop|stopped|listen|listened|care|cared)\b", r"\b{BEDCUE}\b"),
    # up-skirt, down-blouse, and a body zoomed on without her knowing
    (N, r"\b(?:up|under|underneath|beneath) (?:her|a woman s|the girl s|women s|girls) (?:skirt|dress|skirts)\b"
        r"|\b(?:por debajo de|debajo de|bajo) (?:la|su) falda\b|\bsous (?:la|sa) jupe\b|\bunter (?:den|ihren) rock\b"
        r"|\bsotto (?:la|alla) gonna\b|\bpod (?:spodnice|sukienke)\b|\bonder (?:haar|de) rok\b"
        r"|(?<!button )\bdown (?:her )?blouse\b|\bdownblouse\b|\bupskirt\w*\b|\bcreep ?shots?\b", None),
    (N, r"\b(?:zoom|zoomed|zooming|close up|focus|focused) (?:\w+ ){0,2}(?:her|(?:the |a )?\w+ s) (?:chest|breasts|"
        r"cleavage|butt|ass|crotch|legs)\b", r"\b(?:doesnt know|does not know|doesn t know|didnt notice|didn t notice|"
        r"without her knowing|no idea|unaware|not looking|secretly|candid|hidden|stranger|on the bus|on the train|"
        r"on the subway|next to me)\b"),
    (N, r"\b(?:grop(?:es|ing|ed)|fondl\w+|touching her|grabbing her) (?:(?!for\b)\w+ ){0,2}(?:woman|women|girl|"
        r"girls|her|stranger|passenger|breasts?|butt|ass|chest)\b", None),
    (N, r"\b(?:woman|women|girl|girls|stranger) (?:\w+ ){0,2}(?:being )?(?:groped|fondled)\b", None),
    # a nude made of someone who is real
    (N, r"\b{NUDEWORD3} (?:\w+ ){0,3}(?:of|de|di|von|z|van) (?:\w+ ){0,1}{KNOWN3}\b|\b{KNOWN3} (?:\w+ ){0,5}"
        r"(?:make|making|turn|made) (?:her|him|them) (?:naked|nude|topless)\b|\b{KNOWN3} (?:\w+ ){0,5}"
        r"{NUDEWORD3} (?:version|photo|pic|picture|image|edit)\b", None),
    (N, r"\b(?:make|making|turn|made|generate|create) (?:her|him|them) (?:naked|nude|topless|undressed)\b",
        r"\b{SOURCE3}\b"),
    (N, r"\b{NUDEWORD3} (?:\w+ ){0,4}(?:a partir de|from|aus|usa|usando|using|con|de|da) (?:\w+ ){0,2}{SOURCE3}\b"
        r"|\b{SOURCE3} (?:\w+ ){0,4}(?:make|making|turn) (?:\w+ ){0,1}(?:naked|nude|topless)\b", None),
    (N, r"\b(?:a|an) (?:{NUDEWORD3}) (?:of|de) (?:the )?{PUBLIC3}\b|\bdeep ?fakes? (?:\w+ ){0,5}(?:{NUDEWORD3}|"
        r"sex|sexual|explicit)\b|\b(?:{NUDEWORD3}|sex|explicit) deep ?fakes?\b", None),
    # asleep or passed out, then clothing lifted or pictures taken
    (N, r"\b{ASLEEP3} (?:\w+ ){0,8}(?:{LIFT3}) (?:\w+ ){0,2}{GARMENT3}\b|\b{ASLEEP3} (?:\w+ ){0,8}{GARMENT3} "
        r"(?:\w+ ){0,1}(?:pulled up|lifted|pushed up|off|removed)\b", None),
    (N, r"\b{ASLEEP3} (?:\w+ ){0,8}{STRIPPED3}\b|\b{STRIPPED3} (?:\w+ ){0,4}{ASLEEP3}\b", None),
    (N, r"\b(?:peephole|keyhole|spy hole|spyhole|peep hole|glory hole|through the crack|through a crack) (?:\w+ ){0,4}"
        r"(?:{PRIVATE18}|{UNDRESSED})\b", None),
    (N, r"\bdeep ?fakes? (?:\w+ ){0,5}(?:without (?:her|his|their|any) clothes|with no clothes|"
        r"undressed|stripped)\b", None),
    (H, r"\b(?:tribute|glorif\w*|hero|saint|honou?r\w*|celebrat\w*|praise\w*) (?:to |of |for )?the (?:\w+ ){1,3}"
        r"(?:bomber|shooter|gunman)\b", r"^(?!.*\b(?:jacket|plane|aircraft|pilots?|basketball|game|b ?52|squadron)\b)"),
    (H, r"\blynch\w*\b", r"\b(?:{APPROVAL}|picnic|postcard|souvenir|crowd posing|posing)\b"),
    (Category.SUGGESTIVE, r"\b(?:no|without a|without her|without his) towel\b|\btowel (?:drops|dropped|falls|fell|"
        r"slips|slipped)\b|\b(?:dress|skirt|nightgown|shirt) (?:\w+ ){0,1}(?:pulled up|lifted|"
        r"hiked up|riding up)\b", None),
    (N, r"\b{ASLEEP3} (?:\w+ ){0,8}(?:taking (?:pics|photos|pictures) of her|kiyafet\w* (?:\w+ ){0,1}cikar\w*)\b",
        None),
    # implied gore: what a scene leaves of a body
    (G, r"\b{REMAINS3}\w* (?:\w+ ){0,2}{WHOLE3}\b", r"\b(?:{EVENT3}|{PHOTO3}|blieb|ubrig|ostalos|kalanlar)\b"),
    (G, r"\bwhat (?:the |a |an )?(?:\w+ ){1,3}left of (?:the |a |an |his |her )?{WHOLE3}\b", None),
    (G, r"\b(?:close up of|closeup of|photo of) what (?:remained|was left|remains)\b", r"\b{WHOLE3}\b"),
    (G, r"\b(?:parts|pieces|remains|bits) of (?:the |a )?(?:victim|victims|body|corpse|man|woman|person)\b",
        r"\b(?:found|freezer|bags|bag|opened|scattered|labelled|labeled|dumped|severed|realistic|photo)\b"),
    (G, r"\b(?:bodies|corpses|men|victims) (?:\w+ ){0,4}(?:missing (?:their )?heads|without (?:their )?heads|heads "
        r"cut off|heads missing)\b|\b(?:beheaded|decapitated) (?:\w+ ){0,3}(?:bodies|corpses|men|victims)\b", None),
    (G, r"\b(?:jumper|body|man|woman|person) on the (?:pavement|sidewalk|ground|street|concrete) after (?:\w+ ){0,5}"
        r"(?:floors|floor|stories|storeys|roof|rooftop|balcony|building|bridge|cliff|skyscraper|tower)\b", None),
    (G, r"\b(?:face|skin|body|flesh) after (?:the |an |a )?(?:acid|acid attack|chemical burn|fire|blast|explosion)\b",
        r"\b(?:melted|peeled|peeling|raw|graphic|close up|hyper detailed|detailed|realistic|bubbling)\b"),
    (G, r"\bred mist\b", r"\b(?:soldier|man|person|mine|blast|explosion|pieces|body)\b"),
    (G, r"\bstepped on (?:a |the )?(?:land ?)?mine\b", r"\b(?:pieces|remains|red mist|what was left|{PHOTO3})\b"),
    (G, r"\braw (?:wound|wounds|stump|stumps|flesh)\b",
        r"\b(?:{BODYPART}|missing|gone|severed|torn|survivor|fresh|attack)\b"),
    (G, r"\b(?:spilling|spilled|hanging|falling|pouring) out of (?:a |the |his |her |their )?(?:\w+ ){0,2}(?:belly|"
        r"stomach|abdomen|gut|torso|chest)\b", r"\b(?:{HUMAN}|his|her|wound|wounded|blood|bloody|war)\b"),
    (G, r"\b(?:body|corpse|torso|chest|man|woman) opened (?:up )?(?:like|wide|up)\b", None),
    (G, r"\beverything inside (?:showing|visible|exposed|spilling)\b", r"\b(?:{HUMAN}|corpse|morgue|autopsy)\b"),
    (G, r"\binside of (?:a |an |the )?(?:man|woman|person|human|soldier|victim)(?: s|s)? "
        r"(?:chest|skull|head|belly|torso)\b",
        r"\b{CAUSE}\b"),
    (G, r"\b(?:after|from) (?:the |a |an )?(?:wood ?chipper|chipper|combine harvester|harvester|meat grinder|"
        r"hackselmaschine|trituradora|rebaixadora|broyeur) (?:accident|incident)\b",
        r"\b(?:show|coming out|came out|remains|what was left|{PHOTO3})\b"),
    (G, r"\b(?:cesedi|ceset|lijk|zwloki|cadavere|cadaver|cadavre) (?:\w+ ){0,4}(?:kan|krew|bloed|sangue|sangre|sang)\b",
        r"\b(?:kesilmis|organlar|wnetrznosci|ingewanden|onthoofd\w*|budella|rozczlonkow\w*)\b"),
    (G, r"\b{WHOLE3} (?:\w+ ){0,1}(?:geriye )?kalan\w*\b", r"\b(?:{EVENT3}|{PHOTO3}|parcalar\w*)\b"),
    (G, r"\b(?:skin|flesh|face|scalp) (?:\w+ ){0,1}(?:hanging|peeling|sloughing|coming|falling) off (?:her|him|his|"
        r"the|their|its|of)\b", r"\b(?:{PHOTO3}|{GRAPHIC}|blood\w*|raw|horror|wallpaper)\b"),
    (G, r"\b{HUMAN} (?:\w+ ){0,2}(?:after )?(?:being )?dragged (?:\w+ ){0,3}(?:by|behind|under) (?:a |the )?(?:truck|"
        r"car|train|bus|horse|tractor|lorry)\b", r"\b(?:{PHOTO3}|remains|aftermath|road)\b"),
    (G, r"\b(?:jaw|arm|leg|hand|finger|fingers|head|ear|foot|eye|eyeball|nose|lip|limb) (?:\w+ ){0,1}(?:hanging|"
        r"dangling) (?:by|from|off) (?:a |the )?(?:thread|strip|threads|flap|skin|tendons?|sinew|nerve)\b", None),
    (G, r"\b(?:body|corpse|torso|cuerpo|cadaver|corps|cadavre|corpo|cadavere|korper|leiche|cialo|zwloki|trup|telo|"
        r"lichaam|lijk|ceset|corpo) (?:\w+ ){0,1}(?:without (?:a |its |his |her )?head|sin cabeza|sans tete|"
        r"senza testa|ohne kopf|bez glowy|bez golovy|sem cabeca|zonder hoofd|kafasiz)\b|\b(?:basi|kafasi) kopmus\b"
        r"|\bheadless (?:body|bodies|corpse|corpses|torso|victim)\b", None),
    (G, r"\b(?:body|man|woman|cuerpo|hombre|corps|homme|corpo|uomo|korper|mann|cialo|telo|lichaam|adam|motorista|"
        r"motociclista|motorrijder|ciclista) (?:\w+ ){0,4}(?:partido en dos|cortado en dos|coupe en deux|"
        r"tagliato in due|in zwei teile|in zwei halften|przeciety na pol|razrezan\w* popolam|"
        r"in tweeen|ikiye bolunmus)\b", None),
    (G, r"\bwhat (?:a|an|the) (?:\w+ ){1,2}(?:does|did|can do|would do|do|had done) to (?:a |an |the |his |her )?"
        r"{WHOLE3}\b", r"\b(?:aftermath|remains|realistic|photoreal\w*|close up|graphic|gore|gory|bloody|everything "
        r"visible|hyper detailed|detailed)\b"),
    # an attack glorified without naming its perpetrator
    (H, r"\b(?:hero|heroes|saint|legend|martyr|king|champion|icon) (?:who|that) (?:\w+ ){0,1}(?:shot up|bombed|"
        r"attacked|massacred|killed|gunned down|murdered|stabbed) (?:\w+ ){0,2}(?:mosque|synagogue|"
        r"church|school|temple|crowd|"
        r"concert|jews|muslims|worshippers|immigrants|refugees|people)\b|\b(?:thanking|praising|honou?ring|"
        r"celebrating|saluting) (?:the |a )?(?:shooter|gunman|bomber|attacker|killer)\b", None),
    (G, r"\b(?:holding|clutching|carrying|cradling) (?:his|her|their) (?:own )?(?:intestines|guts|entrails|organs|"
        r"brain|brains|bowels)\b", None),
    (G, r"\b(?:zerquetscht\w*|zermalmt\w*|aplastad\w*|ecrase\w*|schiacciat\w*|zmiazdzon\w*|ezilmis|verpletterd\w*|"
        r"crushed|squashed|smashed)\b", r"\b(?:blut|sangre|sang|sangue|krew|kan|bloed|blood|bloody|gore|gory)\b"
        r"(?=.*\b(?:{WHOLE3}|arbeiter|trabajador|ouvrier|operaio|robotnik|isci|arbeider|corpse|head|skull)\b)"),
    (G, r"\bbagirsak\w* (?:\w+ ){0,1}disari\w*\b", None),
    (G, r"\b(?:ic )?organlar\w* (?:\w+ ){0,1}disarida\b|\bkafasi (?:\w+ ){0,1}kesil\w*\b", None),
    # a group drawn as vermin, in nine languages
    (H, r"\b(?:as|als|como|comme|come|jako|olarak|v vide|kak) (?:\w+ ){0,2}(?:rats|ratten|ratas|ratos|ratti|szczury|"
        r"krys|krysy|fare|fareler|vermin|cockroaches|kakkerlakken|cucarachas|cafards|scarafaggi|karaluchy|tarakany|"
        r"parasites|parasiten|parasitos|parassiti|pasozyty|lice|insects)\b",
        r"\b(?:propaganda\w*|propagande|poster\w*|plakat\w*|afis\w*|caricature|karikatur|cartoon|filthy|dirty|"
        r"stealing|afgebeeld|dargestellt|depicted|drawn|shown|portrayed|gosteren|raffigurat\w*|representad\w*)\b"),
    # an atrocity approved of (not its survivors, victims or memorials)
    (H, r"^(?!.*\b(?:survivor\w*|victims?|memorial|remembrance|mourn\w*|never again|museum)\b).*?\b(?:holocaust|shoah|"
        r"genocide|genocidio|genozid|srebrenica|holodomor|ethnic cleansing|pogrom)\b (?:{FREE}\w+ ){0,6}(?:good thing|"
        r"celebrat\w*|glorif\w*|glorious|hero|heroes|victory|joyeux|joyeuse|heureux|feliz|happy|finish the job|was "
        r"right|deserved it|proud)\b", None),
    (H, r"^(?!.*\b(?:survivor\w*|victims?|memorial|remembrance|mourn\w*|never again|museum)\b).*?\b(?:glorifiant|"
        r"glorifying|celebrating|celebrant|celebrando|feiern\w*|verherrlich\w*) (?:\w+ ){0,2}(?:holocaust|shoah|"
        r"genocide|genocidio|genozid|srebrenica|holodomor)\b", None),
    # German "Kind" (child), not English "kind": beside German words
    (Category.MINORS, r"\bkind\b", r"\b(?:nackt\w*|erotisch\w*|madchen|junge|ein|das|im|mit|und|kleines|sexy)\b"
                                    r"(?=.*\b(?:nackt\w*|erotisch\w*|ausgezogen|ohne kleidung)\b)"),
    # hate: coded slogans and numbers, the antisemitic caricature, perpetrators glorified
    (H, r"\brahowa\b|\bday of the rope\b|\bwhite pride world ?wide\b|\bstormfront\b|\bhh ?88\b|\bhappy merchant\b",
        None),
    (H, r"\b(?:14|fourteen) words\b|\b14 ?88\b", r"\b(?:white|aryan|race|secure|existence|nazi\w*|88|heil|"
        r"skinhead\w*|swastika\w*|sieg|banner|flag|tattoo\w*|patch|rally|torch|torches|marching)\b"),
    (H, r"\bzog\b", r"\b(?:jew\w*|puppet|control\w*|occupied)\b"),
    (H, r"\b(?:88|14 ?88)\b", r"\b(?:skinhead\w*|nazi\w*|white power|aryan|swastika|bomber jacket|sieg)\b"),
    (H, r"\b(?:hooked|hook|crooked) nose\b", r"\b(?:puppet\w*|pulling (?:the )?strings|controls? the world|"
        r"over the world|banker\w*|greedy|jew\w*|merchant)\b"),
    (H, r"\bceltic cross\b", r"\b(?:white pride|white power|aryan|stormfront|skinhead\w*|88)\b"),
    (H, r"\b{KILLER3} (?:{FREE}\w+ ){0,6}{SAINT3}\b|\b{SAINT3} (?:{FREE}\w+ ){0,2}{KILLER3}\b", None),
    (H, r"\b{FASCIST3} (?:{FREE}\w+ ){0,8}{SAINT3}\b|\b{SAINT3} (?:{FREE}\w+ ){0,1}{FASCIST3}\b", None),
    (H, r"\b(?:saluto romano|saluto fascista|roman salute)\b", r"\b(?:{SAINT3}|{FASCIST3}|folla|crowd)\b"),
    (H, r"\baryan (?:warriors?|army|brotherhood|race|master race)\b", r"\b(?:{SAINT3}|rahowa|charging|banner)\b"),
)


# A word between a perpetrator and a word of praise that is not a word of fighting them ("heroes who
# fought the Nazis", "an epic battle against Hitler" are history, not glorification).
_FREE = r"(?!(?:against|defeat\w*|fought|fight\w*|versus|vs|resist\w*|liberat\w*|punch\w*|kill\w*|beat\w*|"\
        r"stop\w*|vanquish\w*|hunt\w*|over)\b)"


def _expand(pattern: str) -> str:
    return expand_groups(pattern.replace("{FREE}", _FREE), GROUPS3)


RULES3: tuple[tuple[Category, re.Pattern, re.Pattern | None], ...] = tuple(
    (category, re.compile(_expand(pattern)), re.compile(_expand(needs)) if needs else None)
    for category, pattern, needs in _RULES3)


def match_round3(words: str) -> list[RuleHit]:
    """Every rule of this module that matches `words` (lowercase ASCII words, single-spaced)."""
    hits = []
    for index, (category, pattern, needs) in enumerate(RULES3):
        found = pattern.search(words)
        if found is not None and (needs is None or needs.search(words)):
            if category is H and _SACRED.search(words) and re.search(r"swasti|svasti|swasty|haken", found.group(0)):
                continue  # a swastika in its Hindu, Buddhist or Jain sense
            hits.append(RuleHit(category, f"rule r3-{index}: {found.group(0)}"))
    return hits


_SKIP = {"Zs", "Cf", "Mn", "Me", "Cc", "Po", "Ps", "Pe"}
# The Nazis with praise, in Chinese and Korean; Japanese undressing, erasing clothes, wearing nothing;
# a person's remains (残骸: wreckage, of a person).
_NAZI_ZH_KO = re.compile(r"(?:纳粹|希特勒|万字旗|卐|나치|히틀러|하켄크로이츠).*"
                         r"(?:英雄|万岁|骄傲|荣耀|伟大|致敬|崇拜|光荣|영웅|만세|자랑|찬양|위대)"
                         r"|(?:英雄|万岁|骄傲|荣耀|伟大|致敬|崇拜|영웅|만세|찬양).*(?:纳粹|希特勒|나치|히틀러)")
_JA_UNDRESS = re.compile(r"服を(?:脱が|脱い|消し|消す|消して|剥ぎ|はぎ|取っ)|服が(?:\w{0,6})(?:消え|溶け)"
                         r"|何も(?:身に(?:つけ|着け)|着)て(?:い)?ない")
_JA_ASLEEP = re.compile(r"(?:睡眠薬|眠らされ|眠って|寝て|意識のない|泥酔|気絶)")
_CJK_REMAINS = re.compile(r"(?:人|死体|遺体|男|女)の(?:残骸|残り|肉片)|사람의잔해|시체의잔해")
# Prompt weights are written with parentheses too ("(((masterpiece)))"): only the names the echo marks.
_TRIPLE_PARENS = re.compile(r"\(\(\(\s*(?:them|they|jews?|globalists?|bankers?|the media|media|hollywood|elites?|"
                            r"rothschilds?|soros|who|the bankers|the elites)\s*\)\)\)", re.IGNORECASE)


def match_raw3(text: str) -> list[RuleHit]:
    """The rules read off the prompt as written: the triple parentheses, Chinese, Korean, Japanese."""
    hits = [RuleHit(H, "(((echo)))")] if _TRIPLE_PARENS.search(text) else []
    if text.isascii():
        return hits
    compact = "".join(ch for ch in unicodedata.normalize("NFKC", text) if unicodedata.category(ch) not in _SKIP)
    hits += [RuleHit(category, found.group(0)) for category, pattern in CJK3_PATTERNS
             for found in [pattern.search(compact)] if found is not None]
    if _NAZI_ZH_KO.search(compact):
        hits.append(RuleHit(H, "nazi praise (zh/ko)"))
    undress = _JA_UNDRESS.search(compact)
    if undress:
        hits.append(RuleHit(N if _JA_ASLEEP.search(compact) else S, undress.group(0)))
    if _CJK_REMAINS.search(compact):
        hits.append(RuleHit(G, "remains of a person"))
    return hits
