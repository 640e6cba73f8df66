"""The CRM's closed vocabularies: lifecycle stages, channels, directions, potentials, customer types."""

from typing import Literal, get_args

LifecycleStage = Literal["subscriber", "lead", "mql", "sql", "opportunity", "customer"]
LIFECYCLE_ORDER: tuple[LifecycleStage, ...] = get_args(LifecycleStage)
# Stages a person reaches by a human decision (a deal opened or won), never by scoring alone.
MANUAL_STAGES: frozenset[LifecycleStage] = frozenset({"opportunity", "customer"})

SourceChannel = Literal[
    "web_form", "ads_platform", "email", "sms", "whatsapp", "chat", "voice", "referral", "event", "import"
]
SOURCE_CHANNELS: tuple[SourceChannel, ...] = get_args(SourceChannel)

InteractionChannel = Literal["chat", "voice", "email", "sms", "whatsapp", "meeting", "web"]
INTERACTION_CHANNELS: tuple[InteractionChannel, ...] = get_args(InteractionChannel)

Direction = Literal["inbound", "outbound"]

ConsentChannel = Literal["email", "sms", "whatsapp"]
CONSENT_CHANNELS: tuple[ConsentChannel, ...] = get_args(ConsentChannel)
ConsentStatus = Literal["granted", "revoked"]

PurchasePotential = Literal["low", "medium", "high"]
CustomerType = Literal["enterprise", "mid_market", "smb", "individual"]
Seniority = Literal["c_level", "vp", "director", "manager", "individual_contributor", "unknown"]

FlowChannel = Literal["chat", "voice"]
