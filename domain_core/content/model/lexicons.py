"""Word lists for the local text analysis (en + es): stopwords, sentiment, intent patterns, topic and field synonyms.

Every key is in the analyser's normal form: casefolded, accents removed, straight apostrophes. The lists are our
own; the sentiment scale (-3..3 per word, a damping factor for negation, a boost for intensifiers, "but" shifting
weight to the clause after it) follows the conventions popularised by AFINN and VADER.
"""

from typing import Final


def _words(text: str) -> frozenset[str]:
    """A set of whitespace-separated words."""
    return frozenset(text.split())


# fmt: off

STOPWORDS: Final[dict[str, frozenset[str]]] = {
    "en": _words(
        """a about above after again against all am an and any are as at be because been before being below between
        both but by can could did do does doing down during each few for from further had has have having he her
        here hers herself him himself his how i if in into is it its itself just me more most my myself no nor
        not now of off on once only or other our ours ourselves out over own same she should so some such than
        that the their theirs them themselves then there these they this those through to too under until up
        very was we were what when where which while who whom why will with would you your yours yourself
        yourselves also get got let us hi hello dear thanks thank regards best please via per let's i'm we're
        it's that's don't can't we'll i'll"""
    ),
    "es": _words(
        """a al algo algunas algunos ante antes como con contra cual cuando de del desde donde durante e el ella
        ellas ellos en entre era eran es esa esas ese eso esos esta estaba estado estamos estan estar estas este
        esto estos estoy fue fueron ha habia han hasta hay la las le les lo los mas me mi mis mucho muy nada ni
        no nos nosotros o os otra otras otro otros para pero poco por porque que quien se sea ser si sin sobre
        somos son su sus tambien te tenemos tener tiene tienen todo todos tu tus un una uno unos unas usted
        ustedes vosotros y ya yo hola gracias saludos estimado estimada buenas buenos dias tardes favor cada
        toda todas asi aqui"""
    ),
}

# Words that mark a language for detection, beyond the stopwords (short greetings carry few stopwords).
LANGUAGE_HINTS: Final[dict[str, frozenset[str]]] = {
    "en": _words(
        """hi hello thanks please would could should the and is are you"""
    ),
    "es": _words(
        """hola gracias por favor quisiera podria el la los las es son usted"""
    ),
}

SENTIMENT: Final[dict[str, dict[str, float]]] = {
    "en": {
        # positive
        "good": 2, "great": 3, "excellent": 3, "amazing": 3, "awesome": 3, "love": 3, "loved": 3, "loving": 3,
        "loves": 3, "liked": 2, "happy": 2.5, "glad": 2, "pleased": 2, "satisfied": 2, "helpful": 2, "useful": 2,
        "impressed": 2.5, "impressive": 2.5, "fantastic": 3, "wonderful": 3, "perfect": 3, "nice": 1.5, "fine": 0.5,
        "easy": 1.5, "fast": 1, "quick": 1, "smooth": 1.5, "reliable": 2, "recommend": 2, "recommended": 2,
        "thanks": 1.5, "thank": 1.5, "appreciate": 2, "appreciated": 2, "interested": 1.5, "excited": 2.5,
        "exciting": 2.5, "valuable": 2, "worth": 1.5, "success": 2, "successful": 2, "improved": 1.5, "enjoy": 2,
        "enjoyed": 2, "brilliant": 3, "intuitive": 2, "efficient": 2, "solid": 1.5, "works": 1, "resolved": 1.5,
        "fixed": 1.5, "wow": 2, "cool": 1.5, "promising": 2, "superb": 3, "outstanding": 3, "delighted": 3,
        "thrilled": 3, "best": 3, "better": 1.5, "ok": 0.5, "okay": 0.5, "congrats": 2, "congratulations": 2,
        "grateful": 2.5, "seamless": 2, "flexible": 1.5, "affordable": 1.5, "fair": 1, "fun": 2, "friendly": 1.5,
        "responsive": 1.5, "beautiful": 2.5, "clear": 1, "win": 2, "well done": 2.5,
        "looking forward": 2, "can't wait": 2, "no problem": 1.5, "no worries": 1.5, "thumbs up": 2, "like": 1.5,
        "likes": 1.5,
        # "like" as a request or comparison carries no sentiment
        "would like": 0, "i'd like": 0, "we'd like": 0, "looks like": 0, "look like": 0, "seems like": 0,
        "feel like": 0, "feels like": 0, "something like": 0, "just like": 0, "like to": 0,
        # negative
        "bad": -2.5, "terrible": -3, "awful": -3, "horrible": -3, "poor": -2, "worst": -3, "worse": -2, "hate": -3,
        "hated": -3, "dislike": -2, "disappointed": -2.5, "disappointing": -2.5, "frustrated": -2.5,
        "frustrating": -2.5, "annoying": -2, "annoyed": -2, "angry": -3, "furious": -3, "upset": -2.5,
        "unhappy": -2.5, "sad": -2, "broken": -2, "bug": -1.5, "bugs": -1.5, "buggy": -2, "error": -1.5,
        "errors": -1.5, "fail": -2, "failed": -2, "fails": -2, "failing": -2, "failure": -2.5, "crash": -2,
        "crashes": -2, "crashed": -2, "crashing": -2, "slow": -1.5, "expensive": -1.5, "overpriced": -2.5,
        "confusing": -2,
        "confused": -1.5, "difficult": -1.5, "problem": -1.5, "problems": -1.5, "issue": -1, "issues": -1,
        "unacceptable": -3, "useless": -3, "waste": -2.5, "wasted": -2.5, "ridiculous": -2.5, "complaint": -2,
        "complain": -2, "refund": -1, "lost": -1.5, "delay": -1.5, "delayed": -1.5, "late": -1, "missing": -1.5,
        "wrong": -2, "unfortunately": -1.5, "sorry": -1, "worried": -2, "concerned": -1.5, "spam": -2, "scam": -3,
        "rude": -2.5, "unreliable": -2.5, "stuck": -1.5, "painful": -2, "nightmare": -3, "mess": -2,
        "disaster": -3, "meh": -1, "lacking": -1.5, "clunky": -2, "outage": -2.5, "downtime": -2, "cancel": -1,
        "waste of time": -3, "waste of money": -3, "rip off": -3, "ripoff": -3, "fed up": -2.5, "let down": -2,
        "fell short": -2, "too high": -1.5, "doesn't work": -2, "does not work": -2, "not working": -2,
        "stopped working": -2.5,
    },
    "es": {
        # positivo
        "bueno": 2, "buena": 2, "buenos": 1.5, "buenas": 1, "excelente": 3, "genial": 3, "increible": 3,
        "maravilloso": 3, "maravillosa": 3, "fantastico": 3, "fantastica": 3, "perfecto": 3, "perfecta": 3,
        "encanta": 3, "encantan": 3, "encanto": 3, "encantado": 2.5, "encantada": 2.5, "gusta": 2, "gustan": 2,
        "gusto": 1.5, "feliz": 2.5, "contento": 2.5, "contenta": 2.5, "satisfecho": 2, "satisfecha": 2, "util": 2,
        "facil": 1.5, "rapido": 1, "rapida": 1, "gracias": 1.5, "agradezco": 2, "agradecido": 2, "agradecida": 2,
        "recomiendo": 2, "recomendable": 2, "interesa": 1.5, "interesado": 1.5, "interesada": 1.5,
        "interesante": 1.5, "impresionante": 3, "eficiente": 2, "fiable": 2, "confiable": 2, "mejor": 1.5,
        "funciona": 1, "resuelto": 1.5, "solucionado": 1.5, "exito": 2, "estupendo": 3, "estupenda": 3,
        "fenomenal": 3, "bien": 1.5, "chevere": 2, "amable": 2, "amables": 2, "atento": 1.5, "atenta": 1.5,
        "comodo": 1.5, "intuitivo": 2, "intuitiva": 2, "claro": 0.5,
        "vale la pena": 2, "de maravilla": 3, "sin problema": 1.5, "con gusto": 2, "muy bien": 2,
        # negativo
        "malo": -2.5, "mala": -2.5, "malos": -2.5, "malas": -2.5, "terrible": -3, "horrible": -3, "pesimo": -3,
        "pesima": -3, "peor": -2.5, "odio": -3, "decepcionado": -2.5, "decepcionada": -2.5, "decepcion": -2.5,
        "frustrado": -2.5, "frustrada": -2.5, "frustrante": -2.5, "molesto": -2, "molesta": -2, "enojado": -3,
        "enojada": -3, "enfadado": -3, "enfadada": -3, "harto": -2.5, "harta": -2.5, "triste": -2,
        "problema": -1.5, "problemas": -1.5, "error": -1.5, "errores": -1.5, "falla": -2, "fallo": -2,
        "fallos": -2, "fallas": -2, "lento": -1.5, "lenta": -1.5, "caro": -1.5, "costoso": -1.5, "confuso": -2,
        "confusa": -2, "dificil": -1.5, "inaceptable": -3, "inutil": -3, "basura": -3, "desastre": -3,
        "queja": -2, "reclamo": -2, "lamentablemente": -1.5, "desafortunadamente": -1.5, "preocupado": -2,
        "preocupada": -2, "preocupa": -2, "roto": -2, "caido": -1.5, "perdido": -1.5, "retraso": -1.5, "mal": -2,
        "fatal": -3, "estafa": -3, "grosero": -2.5, "lio": -1.5, "indignado": -3, "indignada": -3,
        "perdida de tiempo": -3, "demasiado alto": -1.5, "se cuelga": -2, "perdida de dinero": -3, "no funciona": -2,
        "dejo de funcionar": -2.5,
    },
}

EMOJI_SENTIMENT: Final[dict[str, float]] = {
    "😀": 2, "😃": 2, "😄": 2, "😁": 2, "😊": 2, "🙂": 1, "😍": 3, "🥰": 3, "😘": 2, "👍": 2, "👏": 2, "🙌": 2,
    "🎉": 2, "❤": 3, "💯": 2, "✅": 1, "🚀": 1.5, "😂": 1, "🤩": 3, "😎": 1.5, "😉": 1, "🙏": 1.5, "💪": 1.5,
    "⭐": 1.5, "✨": 1, "🥳": 2.5, "😞": -2, "😟": -2, "😠": -3, "😡": -3, "🤬": -3, "😢": -2, "😭": -2.5,
    "😤": -2, "👎": -2, "💩": -2, "😒": -1.5, "🙄": -1.5, "😩": -2, "😫": -2, "😖": -2, "😔": -1.5, "😕": -1,
    "🙁": -1.5, "☹": -2, "💔": -2.5, "❌": -1, "😬": -1, "🤦": -1.5,
    ":)": 1.5, ":-)": 1.5, ":d": 2, ":-d": 2, ";)": 1, ";-)": 1, "<3": 2.5, ":(": -1.5, ":-(": -1.5, ":/": -1,
    ":'(": -2,
}

NEGATORS: Final[dict[str, frozenset[str]]] = {
    "en": _words(
        """not no never none nobody nothing neither nor without hardly barely cannot cant can't dont don't doesnt
        doesn't didnt didn't isnt isn't wasnt wasn't arent aren't werent weren't wont won't wouldnt wouldn't
        shouldnt shouldn't couldnt couldn't aint ain't havent haven't hasnt hasn't hadnt hadn't"""
    ),
    "es": _words(
        """no nunca jamas ni tampoco nada nadie ningun ninguno ninguna sin"""
    ),
}

# Multiplier boost for the next sentiment word (negative values damp it).
INTENSIFIERS: Final[dict[str, dict[str, float]]] = {
    "en": {
        "very": 0.3, "really": 0.3, "so": 0.2, "extremely": 0.4, "incredibly": 0.4, "super": 0.3, "totally": 0.3,
        "absolutely": 0.4, "completely": 0.3, "highly": 0.3, "quite": 0.15, "too": 0.2, "especially": 0.2,
        "truly": 0.3, "seriously": 0.3, "slightly": -0.3, "somewhat": -0.3, "bit": -0.2, "little": -0.2,
        "kinda": -0.3, "fairly": -0.15, "rather": -0.1, "partly": -0.3,
    },
    "es": {
        "muy": 0.3, "super": 0.3, "realmente": 0.3, "bastante": 0.2, "demasiado": 0.3, "extremadamente": 0.4,
        "increiblemente": 0.4, "totalmente": 0.3, "completamente": 0.3, "sumamente": 0.4, "tan": 0.2,
        "mucho": 0.2, "muchas": 0.2, "muchisimo": 0.4, "muchisimas": 0.4, "poco": -0.5, "algo": -0.3,
        "ligeramente": -0.3, "apenas": -0.5,
    },
}

# Clause contrast: what follows outweighs what precedes ("good, but slow" leans negative).
CONTRASTS: Final[dict[str, frozenset[str]]] = {
    "en": frozenset({"but", "however"}),
    "es": frozenset({"pero", "embargo", "obstante"}),
}

# Intent patterns over normalised text, both languages at once: (regex, weight).
INTENT_PATTERNS: Final[dict[str, tuple[tuple[str, float], ...]]] = {
    "purchase": (
        (r"\b(buy|buying|purchase|purchasing)\b", 2.0),
        (r"\bplace (an |the |our )?order\b", 2.5),
        (r"\b(ready|want|like|decided|happy) to (move forward|proceed|go ahead|sign|buy|purchase)\b", 3.0),
        (r"\b(go ahead with|let's go ahead|where do (i|we) sign)\b", 2.0),
        (r"\bsend (me |us )?(over )?(the |an? )?(contract|invoice|order form|purchase order|po)\b", 3.0),
        (r"\b(sign|signed|signing) (the )?(contract|agreement|order form)\b", 3.0),
        (r"\bwe('ll| will) take\b", 2.0),
        (r"\bupgrade (to|our|my)\b", 2.0),
        (r"\badd(ing)? (\d+ )?(more )?(seats|licenses|users)\b", 2.0),
        (r"\bhow (do|can) (i|we) pay\b", 2.0),
        (r"\b(payment link|credit card|close the deal)\b", 1.5),
        (r"\b(comprar|compra|adquirir|contratar|contratarlo|contratarla)\b", 2.0),
        (r"\b(queremos|quiero|quisieramos|vamos a|listos para) (comprar|contratar|adquirir|avanzar|firmar)\b", 3.0),
        (r"\bseguir adelante\b", 2.0),
        (r"\b(envien|enviame|envienme|mandame|mandenme|enviar|envia|manda)(nos|me)? (el |la )?"
         r"(contrato|factura|orden de compra)\b", 3.0),
        (r"\bfirmar (el )?(contrato|acuerdo)\b", 3.0),
        (r"\borden de compra\b", 2.5),
        (r"\bcerrar (el )?(trato|acuerdo|negocio)\b", 2.5),
        (r"\b(mejorar|pasar|actualizar)(nos)? (al|a) plan\b", 2.0),
        (r"\b(agregar|anadir|sumar) (\d+ )?(mas )?(licencias|usuarios|asientos)\b", 2.0),
        (r"\bcomo (pago|podemos pagar|puedo pagar)\b", 2.0),
        (r"\b(link|enlace) de pago\b", 1.5),
    ),
    "pricing": (
        (r"\b(price|prices|pricing)\b", 2.5),
        (r"\bhow much\b", 2.5),
        (r"\b(cost|costs)\b", 1.5),
        (r"\b(quote|quotation|estimate)\b", 2.0),
        (r"\b(discount|discounts)\b", 1.5),
        (r"\bper (seat|user|month|year|license)\b", 1.5),
        (r"\b(fee|fees|rates)\b", 1.5),
        (r"\b(budget|cheaper|affordable)\b", 1.0),
        (r"\b(precio|precios|tarifa|tarifas)\b", 2.5),
        (r"\bcuanto (cuesta|cuestan|vale|valen|sale|salen|cobran)\b", 3.0),
        (r"\b(costo|costos|coste|costes)\b", 1.5),
        (r"\b(cotizacion|cotizar|presupuesto)\b", 1.5),
        (r"\b(descuento|descuentos)\b", 1.5),
        (r"\bpor (usuario|licencia|mes|ano|asiento)\b", 1.5),
    ),
    "demo_request": (
        (r"\bdemo(s|nstration)?\b", 3.0),
        (r"\b(schedule|book|set up|arrange|request|get)( a| an| the)? demo\b", 2.0),
        (r"\bwalk ?(us |me )?through\b", 2.0),
        (r"\b(see|show|watch) (it|the (product|platform|tool)) in action\b", 2.5),
        (r"\bshow (me|us) (how|around)\b", 2.0),
        (r"\b(free )?trial\b", 1.5),
        (r"\b(test drive|try it out)\b", 1.5),
        (r"\bdemostracion(es)?\b", 3.0),
        (r"\b(agendar|agendemos|programar|coordinar|solicitar|pedir)( una| la)? demo\b", 2.0),
        (r"\b(ver|mostrar|muestren|mostrarnos|ensenar|ensenarnos) como funciona\b", 2.5),
        (r"\b(prueba|periodo de prueba) (gratis|gratuita)\b", 1.5),
        (r"\bprobar (la )?(plataforma|herramienta|producto)\b", 1.5),
    ),
    "support": (
        (r"\b(help|assist|assistance|support)\b", 1.0),
        (r"\b(not working|doesn't work|does not work|isn't working|stopped working|won't load|broken)\b", 2.5),
        (r"\b(error|errors|bug|bugs|glitch|crash|crashes|crashed)\b", 2.0),
        (r"\b(can't|cannot|unable to) (log ?in|sign in|access|connect|find|export|import|upload|see|open)\b", 2.5),
        (r"\bhow (do|can) i\b", 1.5),
        (r"\b(reset|forgot) (my )?password\b", 2.5),
        (r"\b(issue|issues|problem|problems)\b", 1.5),
        (r"\b(ticket|troubleshoot\w*)\b", 1.5),
        (r"\b(ayuda|ayudar|ayudarme|ayudenme|soporte|asistencia)\b", 1.0),
        (r"\bno (funciona|carga|anda|sirve|abre|conecta)\b", 2.5),
        (r"\bdejo de funcionar\b", 2.5),
        (r"\b(error|errores|falla|fallo|fallos)\b", 2.0),
        (r"\bno (puedo|podemos|logro|consigo) (entrar|acceder|iniciar sesion|conectar|exportar|importar|subir|ver"
         r"|encontrar|abrir)\b", 2.5),
        (r"\bcomo (hago|puedo|se hace)\b", 1.5),
        (r"\b(restablecer|olvide|recuperar) (la |mi )?contrasena\b", 2.5),
        (r"\b(problema|problemas|incidencia|incidencias)\b", 1.5),
    ),
    "complaint": (
        (r"\b(complain\w*|complaint)\b", 3.0),
        (r"\b(unacceptable|outrageous|ridiculous|disgrace\w*)\b", 2.5),
        (r"\b(disappointed|disappointing|frustrated|frustrating|fed up|annoyed|angry|furious|upset)\b", 2.0),
        (r"\b(terrible|awful|horrible|worst|poor|bad) (service|support|experience|quality)\b", 2.5),
        (r"\b(still|yet) (waiting|not (fixed|resolved))\b", 1.5),
        (r"\bwaste of (time|money)\b", 2.0),
        (r"\b(overcharged|charged twice|double charged)\b", 2.0),
        (r"\bno one (has )?(replied|responded|answered|got back)\b", 2.0),
        (r"\b(queja|quejas|quejarme|reclamo|reclamacion|reclamar)\b", 2.5),
        (r"\b(inaceptable|indignante|vergonzoso|una verguenza)\b", 2.5),
        (r"\b(decepcionad[oa]|frustrad[oa]|hart[oa]|molest[oa]|enojad[oa]|enfadad[oa]|indignad[oa])s?\b", 2.0),
        (r"\b(pesimo|pesima|terrible|horrible|mal|mala) (servicio|soporte|atencion|experiencia|calidad)\b", 2.5),
        (r"\b(sigo|seguimos) (esperando|sin respuesta)\b", 1.5),
        (r"\bperdida de (tiempo|dinero)\b", 2.0),
        (r"\b(cobro doble|cobraron dos veces|cobraron de mas)\b", 2.0),
        (r"\bnadie (me |nos )?(ha )?(respondido|responde|contesta|contestado)\b", 2.0),
    ),
    "churn_risk": (
        (r"\bcancel\w*\b", 1.0),
        (r"\bcancel\w* (my |our |the |la |mi |nuestra |el |nuestro )?(subscription|account|contract|plan|service"
         r"|membership|renewal|suscripcion|cuenta|contrato|servicio|membresia|renovacion)\b", 3.0),
        (r"\b(not|won't|will not|don't plan to) renew\w*\b", 3.0),
        (r"\b(switch\w*|mov\w*|migrat\w*) to (a |another |the )?(competitor|different|another|other)\b", 2.5),
        (r"\b(competitor|competitors|alternative|alternatives)\b", 1.5),
        (r"\b(too expensive|can't afford|cannot afford|budget cuts?)\b", 1.5),
        (r"\b(terminate|termination|close (my|our) account)\b", 2.5),
        (r"\b(not|no longer) (interested|using it|need it)\b", 2.0),
        (r"\bdowngrad\w*\b", 2.0),
        (r"\bthinking (about|of) (leaving|switching|cancel\w*)\b", 2.5),
        (r"\bdar(me|nos)? de baja (la |el |mi |nuestra |nuestro )?(suscripcion|cuenta|servicio|plan|contrato)\b",
         3.0),
        (r"\bno (vamos a |voy a )?renovar\b", 3.0),
        (r"\b(cambiar(nos|me)?|pasar(nos|me)?|migrar) a (la competencia|otro proveedor|otra herramienta"
         r"|otra plataforma|otra solucion)\b", 2.5),
        (r"\b(competencia|alternativa|alternativas)\b", 1.5),
        (r"\b(demasiado caro|muy caro|recorte de presupuesto)\b", 1.5),
        (r"\b(rescindir|terminar el contrato|cerrar (la|mi|nuestra) cuenta)\b", 2.5),
        (r"\bya no (lo |la )?(usamos|uso|necesitamos|necesito|nos interesa|me interesa)\b", 2.0),
        (r"\bno (me|nos) interesa\b", 1.5),
        (r"\bbajar de plan\b", 2.0),
    ),
    "unsubscribe": (
        (r"\bunsubscrib\w*\b", 3.5),
        (r"\bopt(ing)? ?out\b", 3.0),
        (r"\b(stop|quit) (emailing|sending|contacting|messaging|calling|texting)\b", 3.0),
        (r"\b(remove|take) me (off|from)( your| the| this)? (list|mailing list|emails?)\b", 3.5),
        (r"\bremove me\b", 2.0),
        (r"\b(don't|do not) (email|contact|message|text|call) me\b", 3.0),
        (r"\bno more (emails|messages)\b", 2.5),
        (r"\b(desuscrib\w*|desuscripcion)\b", 3.5),
        (r"\b(baja|borrar|eliminar|quitar|sacar)(me)? (de|del) (la |esta |su |vuestra )?(lista|listas|boletin"
         r"|newsletter|envios|correos|mailing)\b", 3.5),
        (r"\b(dejar de|no quiero|no deseo) recibir\b", 3.0),
        (r"\bno (me )?(envien|manden|escriban|contacten|llamen) mas\b", 3.0),
        (r"\bdejen de (escribirme|enviarme|llamarme|contactarme)\b", 3.0),
        (r"\b(darme|dame|denme) de baja\b", 1.5),
    ),
    "information": (
        (r"\b(more )?(information|info|details)\b", 2.0),
        (r"\b(learn|know|hear) more\b", 2.0),
        (r"\b(brochure|case stud(y|ies)|datasheet|whitepaper|documentation)\b", 1.5),
        (r"\b(does|do|can|will) (it|you|the (platform|product|tool)) (support|integrate|offer|have|work with"
         r"|handle)\b", 2.0),
        (r"(?<!not )(?<!longer )\b(interested in|curious about)\b", 1.5),
        (r"\bfeatures?\b", 1.0),
        (r"\bquestions? about\b", 1.5),
        (r"\bwondering (if|whether|about)\b", 1.5),
        (r"\b(mas )?(informacion|detalles)\b", 2.0),
        (r"\b(saber|conocer) mas\b", 2.0),
        (r"\b(folleto|casos? de exito|ficha tecnica|documentacion)\b", 1.5),
        (r"\b(se integra|ofrecen|soporta|incluye|permite)\b", 1.0),
        (r"\b(tienen|hay|existe|ofrecen) (una )?(integracion|api|app|aplicacion|version|plan)\b", 2.0),
        (r"\bdo you (have|offer) (an? )?(integration|api|app|plan|version)\b", 2.0),
        (r"(?<!no )\b(me|nos) interesa(ria)? (saber|conocer)\b", 2.0),
        (r"\b(funcionalidades|caracteristicas)\b", 1.0),
        (r"\bpreguntas? sobre\b", 1.5),
        (r"\b(quisiera|quisieramos|queria) saber\b", 1.5),
    ),
    "scheduling": (
        (r"\b(schedule|reschedule|rescheduling|scheduling)\b", 2.5),
        (r"\b(meeting|call|appointment|catch up)\b", 1.0),
        (r"\b(available|availability)\b", 1.5),
        (r"\b(calendar|calendly|invite)\b", 1.5),
        (r"\b(next week|tomorrow|this week|monday|tuesday|wednesday|thursday|friday)\b", 1.0),
        (r"\b\d{1,2}(:\d{2})? ?(am|pm)\b", 1.5),
        (r"\b(time slot|works for you|set up a (call|meeting|time))\b", 2.0),
        (r"\b(move|push|postpone) (the |our )?(meeting|call)\b", 2.5),
        (r"\bcancel\w* (the |our |la )?(meeting|call|appointment|reunion|llamada|cita)\b", 3.0),
        (r"\b(agendar|agendemos|programar|reprogramar|reagendar|coordinar)\b", 2.5),
        (r"\b(reunion|llamada|cita|videollamada)\b", 1.0),
        (r"\b(disponible|disponibles|disponibilidad)\b", 1.5),
        (r"\b(calendario|invitacion)\b", 1.5),
        (r"\b(la proxima semana|manana|esta semana|lunes|martes|miercoles|jueves|viernes)\b", 1.0),
        (r"\ba las \d{1,2}\b", 1.5),
        (r"\b(te|le|les|nos) (viene|queda|parece) bien\b", 1.5),
        (r"\b(mover|pasar|posponer|aplazar) (la )?(reunion|llamada|cita)\b", 2.5),
    ),
}

# Words that mean a label, for custom intent/topic labels: label word -> synonyms (en + es, normal form).
TOPIC_SYNONYMS: Final[dict[str, tuple[str, ...]]] = {
    "billing": ("invoice", "invoices", "payment", "payments", "charge", "charged", "receipt", "subscription", "card",
                "billed", "factura", "facturacion", "pago", "pagos", "cobro", "cargo", "recibo", "suscripcion",
                "tarjeta"),
    "pricing": ("price", "prices", "cost", "quote", "discount", "plan", "plans", "how much", "precio", "precios",
                "costo", "tarifa", "cotizacion", "descuento", "cuanto cuesta"),
    "onboarding": ("setup", "set up", "getting started", "get started", "kickoff", "welcome", "first steps",
                   "configure", "configuration", "implementation", "training", "configurar", "configuracion",
                   "implementacion", "puesta en marcha", "primeros pasos", "bienvenida", "capacitacion"),
    "integrations": ("integration", "integrate", "api", "webhook", "connector", "connect", "sync", "zapier",
                     "salesforce", "hubspot", "slack", "plugin", "integracion", "integrar", "conector", "conectar",
                     "sincronizar", "sincronizacion"),
    "support": ("help", "issue", "problem", "error", "bug", "ticket", "broken", "not working", "ayuda", "problema",
                "soporte", "incidencia", "no funciona"),
    "bug": ("error", "crash", "broken", "glitch", "not working", "fails", "falla", "fallo", "no funciona"),
    "feature": ("feature", "request", "roadmap", "would be nice", "wish", "suggestion", "add support",
                "funcionalidad", "sugerencia", "seria genial", "propuesta", "mejora"),
    "security": ("security", "secure", "sso", "saml", "2fa", "mfa", "encryption", "gdpr", "privacy", "compliance",
                 "soc 2", "password", "breach", "seguridad", "cifrado", "privacidad", "cumplimiento", "contrasena"),
    "performance": ("slow", "speed", "latency", "timeout", "lag", "loading", "fast", "lento", "velocidad",
                    "rendimiento", "tarda"),
    "shipping": ("shipping", "delivery", "shipment", "tracking", "package", "courier", "envio", "entrega",
                 "paquete", "seguimiento", "mensajeria"),
    "refund": ("refund", "money back", "return", "chargeback", "reembolso", "devolucion", "devolver"),
    "account": ("account", "login", "log in", "sign in", "password", "profile", "username", "cuenta", "usuario",
                "iniciar sesion", "perfil", "contrasena"),
    "reporting": ("report", "reports", "dashboard", "analytics", "metrics", "kpi", "export", "informe",
                  "informes", "reporte", "reportes", "panel", "metricas", "analitica", "exportar"),
    "marketing": ("campaign", "campaigns", "ads", "email", "newsletter", "seo", "social", "content", "leads",
                  "campana", "campanas", "anuncios", "contenido", "redes sociales"),
    "sales": ("deal", "pipeline", "quota", "prospect", "lead", "proposal", "negotiation", "venta", "ventas",
              "trato", "prospecto", "propuesta", "negociacion"),
    "legal": ("contract", "terms", "agreement", "dpa", "nda", "liability", "lawyer", "contrato", "terminos",
              "acuerdo", "abogado", "clausula"),
    "hiring": ("job", "position", "candidate", "interview", "resume", "cv", "vacancy", "hire", "empleo", "puesto",
               "candidato", "entrevista", "vacante", "contratacion"),
    "partnership": ("partner", "partners", "reseller", "affiliate", "alliance", "collaboration", "socio", "socios",
                    "alianza", "colaboracion", "revendedor", "afiliado"),
    "feedback": ("feedback", "opinion", "review", "suggestion", "survey", "comentarios", "opinion", "resena",
                 "sugerencia", "encuesta"),
    "cancellation": ("cancel", "cancellation", "terminate", "close account", "cancelar", "cancelacion",
                     "dar de baja", "rescindir"),
    "training": ("training", "course", "tutorial", "webinar", "workshop", "learn", "capacitacion", "curso",
                 "formacion", "taller", "tutorial"),
    "mobile": ("mobile", "app", "ios", "android", "iphone", "phone app", "movil", "aplicacion", "celular"),
    "migration": ("migration", "migrate", "import", "transfer", "move data", "csv", "migracion", "migrar",
                  "importar", "transferir"),
    "usability": ("ux", "ui", "interface", "design", "confusing", "intuitive", "usability", "interfaz", "diseno",
                  "confuso", "intuitivo", "usabilidad"),
    "delivery": ("shipping", "delivered", "arrive", "arrived", "package", "entrega", "envio", "llego", "paquete"),
    "scheduling": ("meeting", "call", "calendar", "schedule", "reschedule", "reunion", "llamada", "agendar",
                   "calendario"),
    "demo": ("demo", "demonstration", "walkthrough", "trial", "demostracion", "prueba"),
    "complaint": ("complaint", "unacceptable", "disappointed", "frustrated", "queja", "reclamo", "inaceptable"),
    "churn": ("cancel", "competitor", "not renew", "switch", "cancelar", "competencia", "no renovar"),
    "unsubscribe": ("unsubscribe", "opt out", "remove me", "stop emailing", "darme de baja", "dejar de recibir"),
    "information": ("information", "info", "details", "learn more", "informacion", "detalles", "saber mas"),
    "purchase": ("buy", "purchase", "order", "contract", "sign", "comprar", "compra", "contratar", "pedido"),
}

# Property name words -> label words a document may use for them (en + es, normal form).
FIELD_SYNONYMS: Final[dict[str, tuple[str, ...]]] = {
    "email": ("correo", "mail", "e-mail", "correo electronico", "email address"),
    "phone": ("telefono", "tel", "movil", "celular", "mobile", "cell", "whatsapp", "phone number", "numero"),
    "name": ("nombre", "full name", "nombre completo", "contact"),
    "company": ("empresa", "compania", "organization", "organisation", "organizacion", "account", "cuenta"),
    "budget": ("presupuesto",),
    "date": ("fecha", "dia", "day", "when", "cuando"),
    "title": ("cargo", "puesto", "role", "rol", "position", "job title"),
    "city": ("ciudad",),
    "country": ("pais",),
    "website": ("web", "sitio", "url", "pagina", "site", "sitio web"),
    "url": ("web", "sitio", "website", "link", "enlace"),
    "seats": ("licencias", "usuarios", "users", "licenses", "puestos", "asientos", "seat"),
    "timeline": ("plazo", "timeframe", "when"),
    "deadline": ("plazo", "fecha limite", "due"),
    "amount": ("monto", "importe", "cantidad", "total", "valor", "value"),
    "price": ("precio", "cost", "costo"),
    "notes": ("notas", "comments", "comentarios"),
    "decision": ("decisor", "decide", "decision maker"),
    "priority": ("prioridad", "urgency", "urgencia"),
    "address": ("direccion", "domicilio"),
    "meeting": ("reunion", "llamada", "call", "cita", "demo"),
    "follow": ("seguimiento", "follow-up", "followup"),
    "employees": ("empleados", "staff", "headcount", "plantilla"),
    "industry": ("industria", "sector", "rubro"),
    "discount": ("descuento",),
    "quantity": ("cantidad", "units", "unidades", "qty"),
    "order": ("pedido", "orden"),
    "interested": ("interesado", "interesada", "interes", "interest"),
}

# Property words that say which kind of number a field wants.
MONEY_WORDS: Final[frozenset[str]] = _words(
        """budget amount price cost revenue value deal spend fee total mrr arr salary presupuesto monto importe
        precio costo valor ingresos gasto tarifa total"""
    )
PERCENT_WORDS: Final[frozenset[str]] = _words(
        """percent percentage rate discount share growth churn porcentaje tasa descuento crecimiento"""
    )

# Common enum values and their translations (normal form), so "prioridad alta" matches enum "high".
ENUM_SYNONYMS: Final[dict[str, tuple[str, ...]]] = {
    "high": ("alta", "alto", "urgent", "urgente"),
    "medium": ("media", "medio", "normal"),
    "low": ("baja", "bajo"),
    "email": ("correo", "e-mail", "mail"),
    "phone": ("telefono", "llamada", "call"),
    "call": ("llamada", "telefono"),
    "meeting": ("reunion", "cita"),
    "chat": ("chat", "whatsapp"),
    "monthly": ("mensual",),
    "annual": ("anual", "yearly"),
    "yearly": ("anual", "annual"),
    "won": ("ganado", "ganada", "closed won"),
    "lost": ("perdido", "perdida", "closed lost"),
}

YES_WORDS: Final[frozenset[str]] = _words(
        """yes y yeah yep yup true correct confirmed affirmative si claro correcto confirmado afirmativo sip"""
    )
NO_WORDS: Final[frozenset[str]] = _words(
        """no n nope false negative not ninguno negativo nop"""
    )

MONTHS: Final[dict[str, int]] = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4, "may": 5,
    "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9, "sep": 9, "sept": 9,
    "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
    "enero": 1, "ene": 1, "febrero": 2, "marzo": 3, "abril": 4, "abr": 4, "mayo": 5, "junio": 6, "julio": 7,
    "agosto": 8, "ago": 8, "septiembre": 9, "setiembre": 9, "set": 9, "octubre": 10, "noviembre": 11,
    "diciembre": 12, "dic": 12,
}

# Abbreviations whose period does not end a sentence (normal form, without the final period).
ABBREVIATIONS: Final[frozenset[str]] = _words(
        """mr mrs ms dr prof sr sra srta dra jr st vs etc inc ltd co corp approx aprox no nr num pag p.ej e.g i.e
        ej ud uds av avda dept depto tel ext fig cf"""
    )
# fmt: on
