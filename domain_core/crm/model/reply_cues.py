"""Cue phrases in free-text replies (English and Spanish): urgency, who decides, yes/no, "I don't know".

Each reader returns what the reply says, or None. A cue inside a negation ("not urgent", "yo no decido")
is turned around or dropped, never read as said.
"""

import re
from typing import Literal

from promptsales.domain_core.crm.model.reply_text import clause_before, find, find_labelled, negated, words

Urgency = Literal["high", "medium", "low"]
Role = Literal["decider", "influencer", "other"]

URGENCY_CUES: dict[Urgency, tuple[str, ...]] = {
    "high": (
        "urgent", "urgently", "urgente", "urgentes", "urgencia", "asap", "as soon as possible",
        "lo antes posible", "cuanto antes", "lo mas pronto posible", "critical", "critico", "critica",
        "mission critical", "top priority", "high priority", "highest priority", "maxima prioridad",
        "alta prioridad", "prioridad maxima", "prioridad alta", "pressing", "apremiante", "emergency",
        "emergencia", "right now", "ahora mismo", "ya mismo", "immediately", "inmediatamente", "de inmediato",
        "yesterday", "para ayer", "cant wait", "can't wait", "cannot wait", "no puede esperar",
        "no podemos esperar", "burning", "on fire", "blocker", "blocking us", "bloqueante", "nos bloquea",
        "desperate", "desesperados", "desesperadas", "losing money", "losing customers", "losing clients",
        "losing deals", "losing sales", "perdiendo dinero", "perdiendo clientes", "perdiendo ventas",
        "killing us", "nos esta matando", "huge pain", "big pain", "major pain", "serious problem",
        "problema grave", "muy grave", "a must", "imprescindible",
    ),
    "medium": (
        "important", "importante", "importantes", "matters", "significant", "significativo", "relevant",
        "relevante", "would help", "would really help", "nos ayudaria", "ayudaria mucho", "soon", "pronto",
        "moderate", "moderado", "moderada", "moderately", "medium", "somewhat", "fairly important",
        "bastante importante", "a real problem", "un problema real", "need to fix", "tenemos que resolver",
        "kind of urgent", "sort of urgent", "somewhat urgent", "a bit urgent", "a little urgent",
        "algo urgente", "un poco urgente", "medio urgente", "not super urgent", "not that urgent",
        "no tan urgente", "priority", "prioridad", "on our roadmap", "en nuestra hoja de ruta",
    ),
    "low": (
        "exploring", "explore", "explorando", "just looking", "just browsing", "browsing", "looking around",
        "solo mirando", "solo estoy mirando", "estoy mirando", "estamos mirando", "echando un vistazo",
        "researching", "research", "investigando", "curious", "curiosity", "curiosidad", "por curiosidad",
        "nice to have", "seria bueno tenerlo", "no rush", "no hurry", "sin prisa", "no hay prisa",
        "not a priority", "no es prioridad", "no es una prioridad", "low priority", "baja prioridad",
        "learning", "informandome", "informandonos", "just checking", "comparing options",
        "comparando opciones", "someday", "algun dia", "maybe later", "tal vez mas adelante", "a futuro",
        "not a big deal", "no big deal", "nada serio", "not really a problem", "no es un problema",
    ),
}  # fmt: skip
# A negated cue of one level means the level below ("not urgent" = important but not urgent).
_NEGATED_LEVEL: dict[Urgency, Urgency | None] = {"high": "medium", "medium": "low", "low": None}
_EMPHATIC_NEGATION = re.compile(r"\b(?:at all|para nada|en absoluto|nada)\b")

ROLE_CUES: dict[Role, tuple[str, ...]] = {
    "decider": (
        "i decide", "i'll decide", "i will decide", "i make the call", "i make the final call",
        "i make the decision", "i make the decisions", "i take the decision", "i have the final say",
        "i have the last word", "i get the final say", "final say is mine", "final call is mine",
        "it's my call", "its my call", "my call", "my decision", "it's my decision", "i sign", "i sign off",
        "i approve", "i own the budget", "i control the budget", "i hold the budget", "i'm the decision maker",
        "im the decision maker", "i am the decision maker", "decision maker here", "i'm the one who decides",
        "i am the one who decides", "i'm in charge", "i am in charge", "up to me", "in my hands",
        "me", "myself", "just me", "only me", "that's me", "thats me", "it's me", "that would be me",
        "yo", "yo decido", "decido yo", "lo decido yo", "yo mismo", "yo misma", "soy yo", "soy quien decide",
        "soy el que decide", "soy la que decide", "soy quien firma", "la decision es mia",
        "la ultima palabra es mia", "tengo la ultima palabra", "yo firmo", "firmo yo", "yo apruebo",
        "apruebo yo", "depende de mi", "es cosa mia", "yo tomo la decision", "tomo la decision",
        "yo manejo el presupuesto", "yo llevo el presupuesto", "decido", "firmo", "apruebo",
    ),
    "influencer": (
        "i recommend", "i'll recommend", "i will recommend", "i make the recommendation", "i help decide",
        "i help with the decision", "i influence", "i have input", "i give input", "i have a say",
        "i have a voice", "part of the decision", "involved in the decision", "on the committee", "committee",
        "we decide together", "decide together", "together", "as a team", "the team decides", "my team and i",
        "me and my team", "my boss and i", "me and my boss", "my manager and i", "shared decision",
        "joint decision", "jointly", "i evaluate", "i'm evaluating",
        "i shortlist", "yo recomiendo", "recomiendo", "hago la recomendacion", "ayudo a decidir",
        "participo en la decision", "influyo", "opino", "doy mi opinion", "decidimos juntos",
        "decidimos en equipo", "entre todos", "en equipo", "entre varios", "comite", "mi jefe y yo",
        "mi jefa y yo", "mi equipo y yo", "junto con",
    ),
    "other": (
        "my boss", "my manager", "my supervisor", "my director", "the boss", "the board", "procurement",
        "purchasing", "finance decides", "someone else", "somebody else", "another person", "another team",
        "other team", "not me", "not my call", "not my decision", "not up to me", "above my pay grade",
        "higher ups", "higher-ups", "i need approval", "need approval", "i need to ask", "i have to ask",
        "i'd have to check", "i need to check with", "need sign off", "need sign-off", "i don't decide",
        "i dont decide", "i do not decide", "i'm not the one", "im not the one", "i am not the one",
        "not the decision maker", "mi jefe", "mi jefa", "mi gerente", "mi director", "mi directora",
        "mi supervisor", "el jefe", "la jefa", "la direccion", "la gerencia", "compras", "departamento de compras",
        "finanzas", "el consejo", "la junta", "otra persona", "alguien mas", "otro equipo", "otra area", "no yo",
        "no soy yo", "no decido yo", "yo no decido", "no decido", "no me toca", "tengo que consultarlo",
        "tengo que preguntar", "necesito aprobacion", "deciden ellos", "ellos deciden", "lo deciden",
        "decide el", "decide la", "decide mi", "decide my",
    ),
}  # fmt: skip
# Job titles: those that usually carry the final say, and those that usually advise.
_TITLES: dict[Role, tuple[str, ...]] = {
    "decider": (
        "ceo", "cto", "cfo", "coo", "cmo", "cio", "cro", "founder", "co-founder", "cofounder", "owner",
        "president", "managing director", "general manager", "dueno", "duena", "fundador", "fundadora",
        "cofundador", "cofundadora", "presidente", "presidenta", "director general", "directora general",
        "gerente general", "propietario", "propietaria", "socio", "socia",
    ),
    "influencer": (
        "vp", "vice president", "director", "directora", "head of", "manager", "gerente", "jefe de", "jefa de",
        "responsable de",
    ),
}  # fmt: skip
_WEAK_SELF_CUES = frozenset({"me", "myself", "yo", "yo mismo", "yo misma"})
SHORT_REPLY_WORDS = 4
_SELF = re.compile(r"(?:\bi'm|\bim|\bi am|\bas|\bsoy|\bcomo)\s+(?:the|a|an|el|la|un|una)?\s*$")

YES = (
    "yes", "yeah", "yep", "yup", "yea", "sure", "of course", "absolutely", "definitely", "certainly", "indeed",
    "correct", "that's right", "thats right", "right", "exactly", "affirmative", "you bet", "totally",
    "for sure", "ok", "okay", "alright", "yes please", "please do", "go ahead", "sounds good", "why not",
    "no problem", "si", "claro", "claro que si", "por supuesto", "desde luego", "efectivamente", "exacto",
    "correcto", "afirmativo", "vale", "dale", "de acuerdo", "obvio", "seguro", "sin duda", "asi es",
    "eso es", "perfecto", "me parece bien", "sin problema", "no hay problema",
)  # fmt: skip
NO = (
    "no", "nope", "nah", "no way", "not really", "not at all", "negative", "never", "i don't think so",
    "i dont think so", "don't think so", "no thanks", "no thank you", "not interested", "nunca", "para nada",
    "de ninguna manera", "en absoluto", "creo que no", "no gracias", "ni hablar", "que va", "negativo",
    "jamas", "not me",
)  # fmt: skip
# Replies that say "I don't know" — never a yes or a no, whatever words they contain.
UNSURE = (
    "not sure", "unsure", "i don't know", "i dont know", "don't know", "dont know", "do not know", "no idea",
    "no clue", "ni idea", "no se", "no lo se", "no sabria", "no sabemos", "no estoy seguro",
    "no estoy segura", "no estamos seguros",
    "depends", "it depends", "depende", "tbd", "to be decided", "to be defined", "por definir",
    "not decided", "haven't decided", "havent decided", "no lo hemos decidido", "todavia no sabemos",
    "aun no sabemos", "we don't know yet", "hard to say", "dificil de decir", "no budget", "sin presupuesto",
    "no tenemos presupuesto", "no hay presupuesto", "no budget yet", "no set budget",
    "haven't set a budget", "don't have a budget", "dont have a budget", "do not have a budget",
    "no tenemos un presupuesto", "no hemos definido", "not defined", "undefined",
)  # fmt: skip
_BARE_ANSWERS = frozenset({"no", "si"})
# Hedges: the reply is neither a yes nor a no.
HEDGES = ("maybe", "perhaps", "possibly", "quizas", "quiza", "tal vez", "puede ser", "puede que", "a lo mejor")


def read_urgency(folded: str) -> tuple[Urgency, float] | None:
    """How pressing the reply says the need is, with a confidence; None when it does not say."""
    levels: list[tuple[Urgency, float]] = []
    for level, hit in find_labelled(folded, URGENCY_CUES):
        if not negated(folded, hit.start):
            levels.append((level, 0.85))
            continue
        lower = _NEGATED_LEVEL[level]
        if lower == "medium" and _EMPHATIC_NEGATION.search(folded[hit.start :]):
            lower = "low"  # "not urgent at all"
        if lower is not None:
            levels.append((lower, 0.75))
    distinct = {level for level, _ in levels}
    if not distinct:
        return None
    if len(distinct) == 1:
        return levels[0][0], min(0.9, max(conf for _, conf in levels) + (0.05 if len(levels) > 1 else 0))
    if distinct == {"high", "medium"}:
        return "high", 0.75  # "important and urgent"
    return max(distinct, key=("low", "medium", "high").index), 0.55


def read_role(folded: str) -> tuple[Role, float] | None:
    """Who the reply says decides: the person, the person with others, or someone else."""
    roles: set[Role] = set()
    short = len(words(folded)) <= SHORT_REPLY_WORDS
    for role, hit in find_labelled(folded, ROLE_CUES):
        if hit.phrase in _WEAK_SELF_CUES and not short:
            continue  # "me" and "yo" say who decides only as a short answer ("me parece que..." does not)
        if not negated(folded, hit.start):
            roles.add(role)
        elif role == "decider":
            roles.add("other")  # "I never sign off", "no firmo yo"
    self_titles, others_titles = _titles(folded)
    if others_titles:
        roles.add("other")
    if not roles and not self_titles:
        return None
    if "influencer" in roles:
        return "influencer", 0.8
    if "other" in roles and ("decider" in roles or self_titles):
        return "influencer", 0.7  # "I'm the CTO but the CEO signs", "my boss and me"
    if roles == {"other"}:
        return "other", 0.85
    if "decider" in roles:
        return "decider", 0.85
    return ("decider", 0.75) if self_titles == {"decider"} else ("influencer", 0.7)


def _titles(folded: str) -> tuple[set[Role], bool]:
    """The kind of job title people give themselves ("I'm the CTO"), and whether someone else's is named."""
    own: set[Role] = set()
    others = False
    for role, hit in find_labelled(folded, _TITLES):
        if negated(folded, hit.start):
            continue
        if _SELF.search(clause_before(folded, hit.start)) or folded.strip(" .!") == hit.phrase:
            own.add(role)
        else:
            others = True  # "the CEO signs", "mi jefe de compras"
    return own, others


def read_yes_no(folded: str) -> tuple[bool, float] | None:
    """A yes or a no in the reply's first clause; None for "I don't know", both, or neither."""
    if find(folded, UNSURE) or find(folded, HEDGES):
        return None
    first = re.split(r"[,;.!?]|\b(?:but|pero)\b", folded, maxsplit=1)[0].strip()
    hits = find_labelled(first, {True: YES, False: NO})
    if len({label for label, _ in hits}) > 1:
        return None  # "yes and no"
    # A bare "no"/"si" answers only on its own: "no tenemos 50 mil" negates, "si hace falta" is "if".
    answers = [(label, hit) for label, hit in hits if hit.phrase not in _BARE_ANSWERS or first == hit.phrase]
    said = {label for label, hit in answers if label is False or not negated(first, hit.start)}
    if len(said) != 1:
        return None
    return said.pop(), 0.9 if answers[0][1].start == 0 else 0.75


def says_unsure(folded: str) -> bool:
    """Whether the reply says the person does not know (or has no budget yet)."""
    return bool(find(folded, UNSURE))
