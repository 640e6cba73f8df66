"""The fixed tables behind ``promptsales demo``: organizations, people, touches, interactions, flows, segments.

Everything here is data, not logic: deterministic (no randomness, no clock) so every run of the seeder
asks for exactly the same records. Times are given as ``days_ago`` and ``hour`` (UTC) relative to the
day the seeder runs, always at least one day back so no touch is in the future.

All companies and people are fictional. Email addresses and websites use the reserved ``.example``
top-level domain (RFC 2606), so nothing seeded can ever reach a real mailbox; phone numbers are in valid
but unremarkable ranges.
"""

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from promptsales.domain_core.crm.dto import Utm
from promptsales.domain_core.crm.model.vocabulary import (
    ConsentChannel,
    Direction,
    FlowChannel,
    InteractionChannel,
    SourceChannel,
)

Identity = Literal["email", "phone", "both"]
SITE = "https://www.promptsales.example"


@dataclass(frozen=True, slots=True)
class DemoOrganization:
    """A company, created with ``create_organization``; people link to it by name and domain."""

    key: str
    name: str
    domain: str
    industry: str
    employee_count: int
    country: str
    region: str


@dataclass(frozen=True, slots=True)
class DemoPerson:
    """A person; ``organization`` is a :class:`DemoOrganization` key, or None for individuals."""

    key: str
    first_name: str
    last_name: str
    title: str | None
    email: str | None
    phone: str | None
    country: str
    region: str | None
    organization: str | None = None


@dataclass(frozen=True, slots=True)
class DemoTouch:
    """One ``capture_lead`` call: a person reaching us through a channel, with its provenance.

    ``identity`` says which of the person's identifiers the channel saw (a WhatsApp message only has
    the phone; a web form has the email, and the phone when the form asks for it).
    """

    person: str
    source: SourceChannel
    days_ago: int
    hour: int
    identity: Identity = "email"
    campaign_ref: str | None = None
    utm: Utm | None = None
    referrer: str | None = None
    landing_page: str | None = None
    consent: tuple[tuple[ConsentChannel, bool], ...] = ()
    subscribed_only: bool = False


@dataclass(frozen=True, slots=True)
class DemoInteraction:
    """One ``log_interaction`` call on a person's timeline."""

    person: str
    channel: InteractionChannel
    direction: Direction
    days_ago: int
    hour: int
    summary: str


@dataclass(frozen=True, slots=True)
class DemoFlowRun:
    """A BANT qualification run: started on ``channel`` and fed ``answers`` in order.

    ``last_field`` is the qualification field the last answer sets; once the person's lead has it, the
    run has already happened and the seeder leaves it alone.
    """

    key: str
    person: str
    channel: FlowChannel
    answers: tuple[str, ...]
    last_field: str


@dataclass(frozen=True, slots=True)
class DemoSegment:
    """A saved segment in the rule language of ``domain_core/crm/model/segments.py``."""

    name: str
    description: str
    rule: MappingProxyType[str, Any]


def _google(campaign: str, term: str, content: str) -> Utm:
    return Utm(source="google", medium="cpc", campaign=campaign, term=term, content=content)


def _meta(campaign: str, content: str) -> Utm:
    return Utm(source="meta", medium="paid_social", campaign=campaign, content=content)


def _newsletter(campaign: str) -> Utm:
    return Utm(source="newsletter", medium="email", campaign=campaign)


# The tables are laid out by hand, one record per entry, so that they read as tables.
# fmt: off
ORGANIZATIONS: tuple[DemoOrganization, ...] = (
    DemoOrganization("northwind", "Northwind Analytics", "northwind-analytics.example", "software", 250,
                     "US", "California"),
    DemoOrganization("mercasol", "Grupo Mercasol", "mercasol.example", "retail", 1800,
                     "ES", "Madrid"),
    DemoOrganization("pagora", "Pagora", "pagora.example", "fintech", 60,
                     "MX", "Ciudad de México"),
    DemoOrganization("brightside", "Brightside Studio", "brightside-studio.example", "marketing_and_advertising", 12,
                     "GB", "London"),
    DemoOrganization("kessler", "Kessler Maschinenbau GmbH", "kessler-maschinenbau.example", "manufacturing", 5000,
                     "DE", "Bayern"),
    DemoOrganization("edunova", "EduNova", "edunova.example", "education", 35,
                     "CO", "Bogotá"),
)

PEOPLE: tuple[DemoPerson, ...] = (
    # key, first name, last name, title, email, phone, country, region, organization
    DemoPerson("emily", "Emily", "Carter", "VP of Sales", "emily.carter@northwind-analytics.example",
               "+1 415 555 0134", "US", "California", "northwind"),
    DemoPerson("jason", "Jason", "Patel", "Sales Operations Manager", "jason.patel@northwind-analytics.example",
               None, "US", "California", "northwind"),
    DemoPerson("lucia", "Lucía", "Fernández", "Directora de Marketing", "lucia.fernandez@mercasol.example",
               "+34 612 345 678", "ES", "Madrid", "mercasol"),
    DemoPerson("javier", "Javier", "Morales", "Responsable de CRM", "javier.morales@mercasol.example",
               None, "ES", "Madrid", "mercasol"),
    DemoPerson("sofia", "Sofía", "Ramírez", "CEO y Cofundadora", "sofia@pagora.example",
               "+52 55 1234 5678", "MX", "Ciudad de México", "pagora"),
    DemoPerson("diego", "Diego", "Hernández", "Gerente de Crecimiento", "diego.hernandez@pagora.example",
               "+52 55 8765 4321", "MX", "Ciudad de México", "pagora"),
    DemoPerson("oliver", "Oliver", "Bennett", "Founder", "oliver@brightside-studio.example",
               None, "GB", "London", "brightside"),
    DemoPerson("chloe", "Chloe", "Evans", "Account Executive", "chloe.evans@brightside-studio.example",
               None, "GB", "London", "brightside"),
    DemoPerson("katrin", "Katrin", "Weber", "Head of Digital Procurement", "k.weber@kessler-maschinenbau.example",
               None, "DE", "Bayern", "kessler"),
    DemoPerson("markus", "Markus", "Schneider", "IT Director", "m.schneider@kessler-maschinenbau.example",
               "+49 89 12345678", "DE", "Bayern", "kessler"),
    DemoPerson("valentina", "Valentina", "Gómez", "Directora Comercial", "valentina.gomez@edunova.example",
               "+57 310 555 0142", "CO", "Bogotá", "edunova"),
    DemoPerson("andres", "Andrés", "Castro", "Coordinador de Ventas", "andres.castro@edunova.example",
               "+57 300 123 4567", "CO", "Bogotá", "edunova"),
    # Individuals: newsletter readers, freelancers and consultants.
    DemoPerson("camila", "Camila", "Torres", "Marketing Analyst", "camila.torres@correo.example",
               None, "MX", "Jalisco"),
    DemoPerson("ryan", "Ryan", "Mitchell", None, "ryan.mitchell@mail.example",
               None, "US", "Texas"),
    DemoPerson("mateo", "Mateo", "Rojas", "Consultor independiente", None,
               "+57 300 765 4321", "CO", "Antioquia"),
    DemoPerson("sarah", "Sarah", "O'Connor", "Freelance Marketing Consultant", "sarah.oconnor@mail.example",
               None, "IE", "Dublin"),
    DemoPerson("pablo", "Pablo", "Navarro", "Autónomo", "pablo.navarro@correo.example",
               None, "ES", "Cataluña"),
    DemoPerson("grace", "Grace", "Kim", "Revenue Operations Lead", "grace.kim@mail.example",
               None, "US", "New York"),
)

_EMAIL_YES: tuple[tuple[ConsentChannel, bool], ...] = (("email", True),)
_EMAIL_NO: tuple[tuple[ConsentChannel, bool], ...] = (("email", False),)

# capture_lead calls in time order (oldest first): a person's first touch decides the lead's source channel.
# person, source channel, days ago, hour (UTC), then provenance and consent.
TOUCHES: tuple[DemoTouch, ...] = (
    DemoTouch("markus", "import", 58, 9, campaign_ref="hannover-messe-scans", consent=_EMAIL_NO),
    DemoTouch("katrin", "event", 55, 11, campaign_ref="hannover-messe-booth", consent=_EMAIL_YES),
    DemoTouch("grace", "import", 50, 16, campaign_ref="webinar-ai-forecasting-attendees", consent=_EMAIL_YES),
    DemoTouch("jason", "event", 45, 15, campaign_ref="revops-summit-sf",
              referrer="https://revopssummit.example/sponsors", consent=_EMAIL_YES),
    DemoTouch("chloe", "email", 40, 8, campaign_ref="newsletter-weekly", utm=_newsletter("weekly-signup"),
              landing_page=f"{SITE}/newsletter", consent=_EMAIL_YES, subscribed_only=True),
    DemoTouch("camila", "email", 35, 19, campaign_ref="newsletter-semanal", utm=_newsletter("semanal-signup"),
              landing_page=f"{SITE}/es/newsletter", consent=_EMAIL_YES, subscribed_only=True),
    DemoTouch("javier", "web_form", 30, 10, campaign_ref="ebook-crm-retail",
              referrer="https://www.linkedin.com/", landing_page=f"{SITE}/es/ebook-crm-retail", consent=_EMAIL_YES),
    DemoTouch("ryan", "email", 25, 7, campaign_ref="newsletter-weekly", utm=_newsletter("weekly-signup"),
              landing_page=f"{SITE}/newsletter", consent=_EMAIL_YES, subscribed_only=True),
    DemoTouch("emily", "ads_platform", 21, 17, campaign_ref="gads-search-crm-us",
              utm=_google("crm-automation-us", "ai sales crm", "rsa-variant-b"),
              referrer="https://www.google.com/", landing_page=f"{SITE}/ai-sales-crm", consent=_EMAIL_YES),
    DemoTouch("sarah", "ads_platform", 20, 21, campaign_ref="meta-consultants-ie",
              utm=_meta("consultant-leadgen-ie", "video-15s"),
              referrer="https://www.facebook.com/", landing_page=f"{SITE}/for-consultants", consent=_EMAIL_NO),
    DemoTouch("diego", "ads_platform", 18, 13, identity="both", campaign_ref="gads-search-fintech-mx",
              utm=_google("fintech-onboarding-mx", "crm para fintech", "rsa-variant-a"),
              referrer="https://www.google.com.mx/", landing_page=f"{SITE}/es/fintech",
              consent=(("email", True), ("whatsapp", True))),
    DemoTouch("grace", "web_form", 16, 14, campaign_ref="pricing-page",
              referrer="https://www.bing.com/", landing_page=f"{SITE}/pricing"),
    DemoTouch("mateo", "whatsapp", 15, 20, identity="phone", campaign_ref="whatsapp-click-to-chat",
              consent=(("whatsapp", True), ("sms", False))),
    DemoTouch("lucia", "ads_platform", 12, 12, campaign_ref="meta-retail-lookalike-es",
              utm=_meta("retail-lookalike-es", "carousel-tiendas"),
              referrer="https://www.instagram.com/", landing_page=f"{SITE}/es/retail", consent=_EMAIL_YES),
    DemoTouch("pablo", "chat", 11, 18, referrer="https://www.google.es/", landing_page=f"{SITE}/es/precios",
              consent=_EMAIL_YES),
    DemoTouch("katrin", "web_form", 10, 9, campaign_ref="security-whitepaper",
              referrer="https://www.google.de/", landing_page=f"{SITE}/security"),
    DemoTouch("valentina", "whatsapp", 9, 15, identity="phone", campaign_ref="whatsapp-click-to-chat",
              consent=(("whatsapp", True),)),
    DemoTouch("sofia", "referral", 8, 16, campaign_ref="partner-fintechhub-mx",
              referrer="https://fintechhub.example/partners", landing_page=f"{SITE}/es/partners/fintechhub",
              consent=_EMAIL_YES),
    DemoTouch("andres", "voice", 7, 10, identity="both", campaign_ref="inbound-call-co",
              consent=(("email", True), ("sms", True))),
    DemoTouch("camila", "web_form", 6, 20, campaign_ref="demo-request",
              referrer=f"{SITE}/es/newsletter/edicion-42", landing_page=f"{SITE}/es/demo"),
    DemoTouch("oliver", "chat", 6, 11, referrer="https://www.google.co.uk/", landing_page=f"{SITE}/agencies",
              consent=_EMAIL_YES),
    DemoTouch("lucia", "whatsapp", 5, 10, identity="both", campaign_ref="whatsapp-click-to-chat",
              consent=(("whatsapp", True),)),
    DemoTouch("valentina", "web_form", 4, 11, identity="both", campaign_ref="demo-request",
              referrer="https://www.google.com.co/", landing_page=f"{SITE}/es/demo", consent=_EMAIL_YES),
    DemoTouch("emily", "web_form", 3, 15, identity="both", campaign_ref="demo-request",
              referrer=f"{SITE}/ai-sales-crm", landing_page=f"{SITE}/demo", consent=_EMAIL_YES),
    DemoTouch("sofia", "chat", 2, 17, referrer="https://www.google.com.mx/", landing_page=f"{SITE}/es/precios"),
)

# log_interaction calls in time order: person, channel, direction, days ago, hour (UTC), summary.
INTERACTIONS: tuple[DemoInteraction, ...] = (
    DemoInteraction("jason", "email", "outbound", 30, 10,
                    "Sent the RevOps Summit follow-up with the pipeline benchmark report; Jason opened it twice."),
    DemoInteraction("markus", "email", "inbound", 20, 14,
                    "Asked to stop marketing emails; happy to be contacted about IT security topics only."),
    DemoInteraction("diego", "email", "outbound", 16, 9,
                    "Envié la guía de automatización de onboarding para fintech; la revisará con su equipo."),
    DemoInteraction("pablo", "chat", "inbound", 11, 18,
                    "Preguntó si hay un plan para autónomos; le compartimos la página de precios."),
    DemoInteraction("katrin", "email", "inbound", 10, 10,
                    "Requested the EU data residency statement and GDPR DPA for procurement review."),
    DemoInteraction("katrin", "meeting", "outbound", 8, 13,
                    "Procurement intro call: vendor onboarding takes 6-8 weeks; needs ISO 27001 evidence."),
    DemoInteraction("andres", "voice", "inbound", 7, 10,
                    "Llamada entrante: quiere automatizar el seguimiento de 2.000 aspirantes al mes."),
    DemoInteraction("oliver", "chat", "inbound", 6, 11,
                    "Asked whether an agency plan can manage several client workspaces from one login."),
    DemoInteraction("lucia", "chat", "inbound", 5, 10,
                    "Preguntó por la integración con su TPV y campañas por tienda; tienen 120 tiendas en España."),
    DemoInteraction("lucia", "voice", "outbound", 4, 16,
                    "Llamada de 20 minutos: interés en un piloto para 10 tiendas de Madrid; pide un caso de éxito."),
    DemoInteraction("valentina", "voice", "inbound", 4, 12,
                    "Llamó con dudas sobre planes para instituciones educativas y descuentos por volumen."),
    DemoInteraction("emily", "email", "inbound", 3, 16,
                    "Replied to the demo confirmation asking about SSO and moving 40 reps off their legacy CRM."),
    DemoInteraction("sofia", "chat", "inbound", 2, 17,
                    "Asked about WhatsApp Business API support and pricing for 15 seats."),
    DemoInteraction("emily", "meeting", "outbound", 2, 18,
                    "Discovery call with Emily and her RevOps lead: wants Enterprise pricing and a rollout before Q4."),
    DemoInteraction("sofia", "meeting", "outbound", 1, 15,
                    "Video call with Sofía and her CTO: security questionnaire sent; decision expected this month."),
)
# fmt: on

FLOW_ID = "bant-qualification"
FLOW_RUNS: tuple[DemoFlowRun, ...] = (
    # Qualifies: urgent need, over 50k, decision maker, this month -> handoff to sales, lead becomes sql.
    DemoFlowRun("bant-chat-emily", "emily", "chat", ("asap", "over 50k", "I decide", "this month"), "timeline"),
    # Left mid-way on the phone: only the need was answered.
    DemoFlowRun("bant-voice-andres", "andres", "voice", ("important",), "need"),
)

SEGMENTS: tuple[DemoSegment, ...] = (
    DemoSegment(
        "Hot B2B leads",
        "Scored 60+, companies of 50 or more people, and we may email them.",
        MappingProxyType(
            {
                "all": [
                    {"field": "score", "op": "gte", "value": 60},
                    {"field": "company_size", "op": "gte", "value": 50},
                    {"field": "consent.email", "op": "eq", "value": "granted"},
                ]
            }
        ),
    ),
    DemoSegment(
        "Spanish-speaking market",
        "Contacts in Spain, Mexico and Colombia.",
        MappingProxyType({"all": [{"field": "country", "op": "in", "value": ["ES", "MX", "CO"]}]}),
    ),
)


@dataclass(frozen=True, slots=True)
class DemoCampaign:
    """A campaign planned from a goal on the Google Ads sandbox; ``live`` ones get approved copy and are activated.

    The flight starts ``starts_in_days`` after the seeding day and lasts ``days`` (the planner refuses past dates).
    """

    key: str
    name: str
    objective: Literal["leads", "traffic"]
    product: str
    markets: tuple[tuple[str, str], ...]  # (country, language)
    budget: int
    currency: str
    landing_url: str
    brief: str
    language: Literal["en", "es"]
    starts_in_days: int
    days: int
    live: bool


CAMPAIGNS: tuple[DemoCampaign, ...] = (
    DemoCampaign(
        "pymes-es-mx",
        "Contabilidad pymes · ES + MX",
        "leads",
        "PromptSales CRM for small accounting firms",
        (("ES", "es"), ("MX", "es")),
        6000,
        "EUR",
        f"{SITE}/es/demo",
        "CRM para despachos contables: clientes y facturas en un solo sitio, prueba gratis 30 días",
        "es",
        0,
        30,
        True,
    ),
    DemoCampaign(
        "webinar-us",
        "AI forecasting webinar · US",
        "traffic",
        "Webinar: forecasting pipeline with AI",
        (("US", "en"),),
        3000,
        "USD",
        f"{SITE}/webinars/ai-forecasting",
        "Free webinar: forecast your pipeline with AI in 45 minutes, live Q&A with our RevOps team",
        "en",
        21,
        14,
        False,
    ),
)
