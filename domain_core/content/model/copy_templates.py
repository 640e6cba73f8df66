"""Phrases and templates for local copywriting, per language and tone, plus the cues that read a brief.

Templates use ``{product}``, ``{benefit}``, ``{offer}``, ``{cta}``, ``{audience}``, ``{proof}``, ``{pain}`` and
``{keyword}``; a template is used only when the brief supplies every slot it names. None of them makes a claim
of its own (no "best", "guaranteed", "#1", "100%", "risk-free"...): what the copy promises comes from the brief.
Benefit slots read as a verb phrase ("cut setup time by 60%", "ahorra tiempo"), so templates put them where a
base-form verb (en) or an imperative (es) fits.
"""

from typing import Final

Templates = dict[str, tuple[str, ...]]  # tone ("any" for every tone) -> templates


def _words(text: str) -> frozenset[str]:
    """A set of whitespace-separated words."""
    return frozenset(text.split())


# fmt: off
TONES: Final = ("professional", "friendly", "bold", "playful", "urgent")
KINDS: Final = ("headline", "body", "cta", "subject", "preheader", "path", "short")
EMOJI_KINDS: Final = frozenset({"headline", "body", "subject", "preheader", "short"})
EMOJI: Final[dict[str, tuple[str, ...]]] = {
    "friendly": ("😊", "👋", "🙌", "✨"),
    "playful": ("🎉", "🚀", "😄", "✨", "🙌"),
}
DEFAULT_PRODUCT: Final = {"en": "our solution", "es": "nuestra solución"}

DEFAULT_CTAS: Final[dict[str, Templates]] = {
    "en": {
        "professional": ("Learn more", "See how it works", "Contact us"),
        "friendly": ("Give it a try", "Take a look", "Let's talk"),
        "bold": ("Get started", "Start now", "Try it now"),
        "playful": ("Take it for a spin", "Let's go", "Dive in"),
        "urgent": ("Start today", "Get started now", "Don't wait"),
    },
    "es": {
        "professional": ("Más información", "Descubre cómo funciona", "Contáctanos"),
        "friendly": ("Pruébalo", "Échale un vistazo", "Hablemos"),
        "bold": ("Empieza ya", "Empieza ahora", "Pruébalo ahora"),
        "playful": ("Dale una vuelta", "Vamos allá", "Lánzate"),
        "urgent": ("Empieza hoy", "No esperes más", "Empieza ahora"),
    },
}
TRIAL_CTA: Final = {"en": "Start your {offer}", "es": "Empieza tu {offer}"}

HEADLINES: Final[dict[str, Templates]] = {
    "en": {
        "any": ("{benefit} with {product}", "{product}: {benefit}", "{product}: {offer}", "{product} for {audience}",
                "{benefit}", "Meet {product}", "Try {product}", "{offer}", "{benefit} for {audience}",
                "{pain}? {product} can help", "{cta}", "{product}"),
        "professional": ("{product}, built for {audience}", "{benefit}: see how", "How {audience} {benefit}"),
        "friendly": ("Say hello to {product}", "Hi {audience}, meet {product}", "Let's {benefit}",
                     "{product} is here to help"),
        "bold": ("{benefit}. Starting now", "Ready to {benefit}?", "Stop waiting. {benefit}",
                 "Go further with {product}"),
        "playful": ("Psst… {benefit}", "{benefit}? Yes, please!", "Hello, {product}!", "Ta-da: meet {product}"),
        "urgent": ("{benefit}, starting today", "Don't wait: {benefit}", "Start today: {offer}",
                   "Now's the time to {benefit}", "{cta} today"),
    },
    "es": {
        "any": ("{benefit} con {product}", "{product}: {benefit}", "{product}: {offer}", "{product} para {audience}",
                "{benefit}", "Conoce {product}", "Prueba {product}", "{offer}", "{benefit} para {audience}",
                "¿{pain}? {product} lo resuelve", "{cta}", "{product}"),
        "professional": ("{product}, pensado para {audience}", "{benefit}: descubre cómo", "Con {product}, {benefit}"),
        "friendly": ("Te presentamos {product}", "Hola, {audience}: conoce {product}", "Con {product}, {benefit}",
                     "{product} está aquí para ayudarte"),
        "bold": ("{benefit}. Desde hoy", "Sin excusas: {benefit}", "{product}. Sin rodeos",
                 "Ve más allá con {product}"),
        "playful": ("Psst… {benefit}", "¿{benefit}? ¡Claro que sí!", "¡Hola, {product}!", "Tachán: conoce {product}"),
        "urgent": ("{benefit} desde hoy", "No esperes: {benefit}", "Empieza hoy: {offer}", "Es el momento: {benefit}",
                   "{cta} hoy"),
    },
}

SUBJECTS: Final[dict[str, Templates]] = {
    "en": {
        "any": ("{benefit} with {product}", "Introducing {product}", "{product}: {offer}", "{audience}: {benefit}",
                "Your {offer}", "{product} for {audience}", "How to {benefit}", "{product}: {benefit}", "{benefit}",
                "Meet {product}"),
        "professional": ("How {audience} {benefit}", "{product} for {audience}: an overview"),
        "friendly": ("Quick hello from {product}", "Thought you'd like this: {benefit}"),
        "bold": ("{benefit}. Really.", "Ready to {benefit}?"),
        "playful": ("Psst… {benefit}", "Guess what? {benefit}"),
        "urgent": ("Don't miss your {offer}", "Today: {benefit}", "{cta} today"),
    },
    "es": {
        "any": ("{benefit} con {product}", "Te presentamos {product}", "{product}: {offer}", "{audience}: {benefit}",
                "Tu {offer}", "{product} para {audience}", "{product}: {benefit}", "{benefit}", "Conoce {product}"),
        "professional": ("{product} para {audience}: lo esencial", "Así funciona {product}"),
        "friendly": ("Un saludo de {product}", "Creemos que te gustará: {benefit}"),
        "bold": ("{benefit}. En serio.", "Sin rodeos: {benefit}"),
        "playful": ("Psst… {benefit}", "¿Adivinas qué? {benefit}"),
        "urgent": ("No te pierdas tu {offer}", "Hoy: {benefit}", "{cta} hoy"),
    },
}

PREHEADERS: Final[dict[str, Templates]] = {
    "en": {
        "any": ("{offer}. {cta}.", "{benefit} with {product}.", "See how {audience} {benefit}.", "{proof}. {cta}.",
                "{cta} and {benefit}.", "{benefit}. {cta}.", "Meet {product}. {cta}.", "{product} for {audience}."),
        "friendly": ("We think you'll like this: {benefit}.",),
        "playful": ("Spoiler: {benefit}.",),
        "urgent": ("{cta} today.", "{offer}. {cta} today."),
        "bold": ("{benefit}. No waiting.",),
    },
    "es": {
        "any": ("{offer}. {cta}.", "{benefit} con {product}.", "{proof}. {cta}.", "{cta} y {benefit}.",
                "{benefit}. {cta}.", "Conoce {product}. {cta}.", "{product} para {audience}."),
        "friendly": ("Creemos que te gustará: {benefit}.",),
        "playful": ("Spoiler: {benefit}.",),
        "urgent": ("{cta} hoy.", "{offer}. {cta} hoy."),
        "bold": ("{benefit}. Sin esperas.",),
    },
}

SHORTS: Final[dict[str, Templates]] = {
    "en": {
        "any": ("{product}: {benefit}. {cta}.", "{benefit} with {product}. {offer}.", "{product}: {offer}. {cta}.",
                "{benefit}. {cta}.", "{offer}. {cta}.", "{benefit} with {product}.", "Meet {product}. {cta}.",
                "{product} for {audience}. {cta}."),
        "playful": ("Psst… {benefit}. {cta}!",),
        "urgent": ("{benefit}. {cta} today.", "{offer}. {cta} today."),
        "bold": ("{benefit}. {cta} now.",),
    },
    "es": {
        "any": ("{product}: {benefit}. {cta}.", "{benefit} con {product}. {offer}.", "{product}: {offer}. {cta}.",
                "{benefit}. {cta}.", "{offer}. {cta}.", "{benefit} con {product}.", "Conoce {product}. {cta}.",
                "{product} para {audience}. {cta}."),
        "playful": ("Psst… {benefit}. ¡{cta}!",),
        "urgent": ("{benefit}. {cta} hoy.", "{offer}. {cta} hoy."),
        "bold": ("{benefit}. {cta} ya.",),
    },
}

# A body is an opener, then optional proof, offer and closing call to action sentences.
BODY_OPENERS: Final[dict[str, Templates]] = {
    "en": {
        "any": ("{benefit} with {product}.", "{product} helps {audience} {benefit}.",
                "With {product}, you can {benefit}.", "Meet {product}.", "{product} is built for {audience}.",
                "Discover {product}."),
        "professional": ("{product} helps teams {benefit}.", "Built for {audience}, {product} helps you {benefit}."),
        "friendly": ("Meet {product}, here to help you {benefit}.", "Say hello to {product}: {benefit}."),
        "bold": ("Stop settling. {benefit} with {product}.",),
        "playful": ("Good news: {product} helps you {benefit}.",),
        "urgent": ("Don't wait. {benefit} with {product}.", "Start today and {benefit} with {product}."),
    },
    "es": {
        "any": ("{benefit} con {product}.", "{product} está pensado para {audience}: {benefit}.",
                "Con {product}, {benefit}.", "Conoce {product}.", "{product} está pensado para {audience}.",
                "Descubre {product}."),
        "professional": ("{product} ayuda a {audience}: {benefit}.",),
        "friendly": ("Te presentamos {product}: {benefit}.",),
        "bold": ("Sin rodeos: {benefit} con {product}.",),
        "playful": ("Buenas noticias: {benefit} con {product}.",),
        "urgent": ("No esperes más: {benefit} con {product}.", "Empieza hoy y {benefit} con {product}."),
    },
}
BODY_PROOF: Final = {"en": ("{proof}.",), "es": ("{proof}.",)}
BODY_OFFER: Final = {"en": ("{offer}.", "Offer: {offer}."), "es": ("{offer}.", "Oferta: {offer}.")}
BODY_CLOSERS: Final[dict[str, dict[str, str]]] = {
    "en": {"professional": "{cta}.", "friendly": "{cta} whenever you're ready.", "bold": "{cta} now.",
           "playful": "{cta}!", "urgent": "{cta} today."},
    "es": {"professional": "{cta}.", "friendly": "{cta} cuando quieras.", "bold": "{cta} ya.",
           "playful": "¡{cta}!", "urgent": "{cta} hoy."},
}
PAIN: Final = {"en": "Struggling with {object}", "es": "Problemas con {object}"}

# --- reading a brief (patterns run on the normal form: casefolded, accents removed)
LAUNCH_WORDS: Final = {
    "en": ("launch", "launching", "introduce", "introducing", "announce", "announcing", "promote", "promoting",
           "presenting", "meet", "new"),
    "es": ("lanza", "lanzar", "lanzamiento de", "lanzamos", "presenta", "presentamos", "promociona", "promocionar",
           "conoce", "nuevo", "nueva"),
}
AUDIENCE_MARKERS: Final = {
    "en": ("aimed at", "built for", "designed for", "targeting", "for"),
    "es": ("dirigido a", "dirigida a", "pensado para", "pensada para", "para"),
}
BENEFIT_VERBS: Final = {
    "en": _words("""cut save grow increase reduce boost improve automate double triple speed simplify get win close
        launch streamline track manage build scale lower eliminate drive generate convert send create find turn make
        keep help run plan publish connect sync capture earn attract engage accelerate unify organize organise
        measure analyze analyse optimize optimise centralize centralise end avoid stop slash minimize minimise
        maximize maximise free protect secure ship deliver hire book sell"""),
    "es": _words("""ahorra ahorre ahorrar aumenta aumentar reduce reducir reduzca mejora mejorar crece crecer
        impulsa impulsar automatiza automatizar simplifica simplificar duplica duplicar acelera acelerar gana ganar
        consigue conseguir gestiona gestionar optimiza optimizar conecta conectar genera generar convierte
        convertir incrementa incrementar multiplica multiplicar elimina eliminar recorta recortar disminuye
        disminuir crea crear cierra cerrar vende vender publica publicar sincroniza centraliza controla organiza
        encuentra mide analiza capta captar atrae atraer escala escalar evita evitar protege lanza"""),
}
CTA_VERBS: Final = {
    "en": _words("""book schedule request get grab claim sign register subscribe join start try learn contact call buy
        shop order download reserve apply discover explore see watch visit chat talk reply give take dive let's go"""),
    "es": _words("""reserva agenda solicita pide registrate suscribete unete empieza comienza descarga compra
        contactanos contacta llama escribenos descubre visita aprovecha obten pruebalo prueba responde habla conoce
        dale echale hablemos vamos lanzate"""),
}
PAIN_VERBS: Final = {
    "en": _words("cut reduce lower eliminate end avoid stop slash minimize minimise"),
    "es": _words("reduce reducir reduzca recorta recortar elimina eliminar evita evitar disminuye"),
}
BENEFIT_LEADS: Final = {
    "en": ("helps you", "help you", "lets you", "allows you to", "enables you to", "so you can", "to"),
    "es": ("te ayuda a", "le ayuda a", "te permite", "para que puedas", "para"),
}
CTA_PATTERNS: Final = {
    "en": (r"^(book|schedule|request|get|grab|claim) (a |an |your |the )?(free )?(demo|call|consultation|quote|trial)",
           r"^(sign up|register|subscribe|join|start|try|get started|learn more|contact|call|buy|shop|order|"
           r"download|reserve|apply|discover|explore|see|watch|visit|chat|talk|reply|order)\b"),
    "es": (r"^(reserva|agenda|solicita|pide|registrate|suscribete|unete|empieza|comienza|descarga|compra|"
           r"contactanos|contacta|llama|escribenos|descubre|visita|aprovecha|obten|pruebalo|prueba ahora|"
           r"responde|habla)\b",),
}
OFFER_PATTERNS: Final = {
    "en": (r"\b\d+[- ]?(day|week|month)s?[- ](free )?trial\b", r"\bfree (trial|shipping|demo|consultation|month|plan|"
           r"tier|setup|onboarding|delivery)\b", r"\b\d+ ?% (off|discount)\b", r"\bdiscount\b",
           r"\b(first|1st) month free\b", r"\bbuy one,? get one\b", r"\bpromo code\b", r"\bcoupon\b",
           r"\bno credit card( required)?\b", r"\bsave \d+ ?%", r"\bfree\b"),
    "es": (r"\bprueba (gratis|gratuita)\b", r"\b\d+ dias (gratis|de prueba)\b", r"\b\d+ ?% de descuento\b",
           r"\bdescuento\b", r"\benvio gratis\b", r"\bprimer mes gratis\b", r"\b2x1\b", r"\bcodigo promocional\b",
           r"\bcupon\b", r"\bsin tarjeta( de credito)?\b", r"\bsin costo\b", r"\bgratis\b"),
}
PROOF_PATTERN: Final = (r"\d+(?:[.,]\d+)? ?%|\b\d+(?:[.,]\d+)?x\b|\b\d[\d,.]*\+? (customers|teams|users|companies|"
                        r"brands|clientes|equipos|usuarios|empresas|marcas|reviews|resenas)\b|\b\d(?:[.,]\d)?/5\b")
# Words a cut-short phrase should not end on.
TRAILING_STOPWORDS: Final = _words("""a an the and or with for of to by in on at from your our
    y o con para de del el la los las un una por en al tu su nuestro nuestra""")
# fmt: on
