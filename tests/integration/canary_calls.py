"""The cross-tenant canary's case table: what tenant B calls, reads and renders against tenant A's data.

Every tool, static resource, resource template and prompt that the gateway lists needs at least one case here
(``test_cross_tenant_canary`` fails otherwise). A case names the call, builds its arguments from what A planted
(``World.a``) and B owns (``World.b``), says what B must get (``expect``), and optionally whether A making the same
read must see its data (``reveals``: the probe really aims at something) and an extra check of B's answer.
When a case finds a product bug, give it ``xfail="..."`` (strict) with what leaks, until the bug is fixed.
"""

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from promptsales.domain_core.crm.model.flows import load_default_flows

Kind = Literal["tool", "resource", "template", "prompt"]
# ok: must succeed; not_found: must fail saying not found / not valid; rejected: must fail cleanly; any: either.
Expect = Literal["ok", "not_found", "rejected", "any"]

# Every id the product mints: a short prefix and a ULID (tools/crm/fields.py).
ID_PATTERN = re.compile(r"\b[a-z]{2,5}_[0-9A-HJKMNP-TV-Z]{26}\b")
NOT_FOUND = re.compile(r"not found|not valid|does not exist|does not belong to|belongs to a different", re.IGNORECASE)
# Text that means a tool crashed instead of answering (the middleware's masked internal error).
CRASH_MARKERS = ("internal error", "traceback", "error calling tool", "sqlalchemy", "psycopg")
A_PHONES = ("+14155550142", "+34612345678")
B_PHONE = "+14155550177"


# ------------------------------------------------------------------------------------------ what A planted


@dataclass
class Planted:
    """Tenant A's data as B may target it: values, ids, cursors, tokens and idempotency keys."""

    tenant: str
    hex: str
    marker: str  # CANARY<hex>: in every free-text field A wrote
    head: str  # the marker's first characters: what B searches with
    tail: str  # the rest: B never sends it, so it must never come back
    email: str  # contact 1 (the merge survivor)
    duplicate_email: str  # contact 2 (merged into contact 1)
    lead_email: str  # a person created by capture_lead
    domain: str
    tag: str
    owner: str
    segment_name: str
    segment_rule: dict[str, Any]
    scoring_overrides: dict[str, Any]
    csv_text: str
    flow_id: str  # a tenant flow of A's own
    org_id: str = ""
    contact_id: str = ""
    duplicate_id: str = ""
    lead_contact_id: str = ""
    lead_id: str = ""
    import_lead_id: str = ""
    segment_id: str = ""
    run_id: str = ""
    subscription_id: str = ""
    checkout_id: str = ""
    provider_subscription_id: str = ""
    confirmation_token: str = ""
    approve_token: str = ""
    kit_name: str = ""  # A's default brand kit (with a logo); names carry the marker
    alt_kit_name: str = ""  # A's second, non-default kit
    logo_png_base64: str = ""  # A's logo (B stores the very same bytes in phase 2)
    api_key: str = ""  # A's own model provider key: sealed, shown to nobody
    hubspot_account: str = ""  # A's HubSpot sandbox portal id
    sync_run_id: str = ""  # A's first HubSpot sync run
    design_id: str = ""  # a design of A's Canva sandbox account (imported into A's library)
    campaign_id: str = ""  # A's live campaign (on A's Google Ads sandbox account)
    campaign_token: str = ""  # the confirmation token A's activation used
    change_id: str = ""  # A's pause of that campaign
    experiment_id: str = ""  # A's experiment on that campaign (A's lead was assigned a variant)
    assets: dict[str, str] = field(default_factory=dict)  # A's library asset ids, by role (state)
    files: dict[str, str] = field(default_factory=dict)  # sha256 of A's stored files (logo, image, video)
    keys: dict[str, str] = field(default_factory=dict)  # idempotency keys A used, by tool
    cursors: dict[str, str] = field(default_factory=dict)  # next_cursor values A received, by listing
    ids: set[str] = field(default_factory=set)  # every id A was shown (collected from A's answers)
    secrets: set[str] = field(default_factory=set)  # tokens and PayPal ids: like ids, never in B's successes

    @property
    def forbidden_ids(self) -> set[str]:
        return self.ids | self.secrets

    @property
    def kit_names(self) -> set[str]:
        """Names B may send and see echoed, but that must answer like made-up names."""
        return {self.kit_name, self.alt_kit_name}


@dataclass
class BOwn:
    """Tenant B's own baseline records (marker-free), used to mix B's ids with A's."""

    tenant: str
    org_id: str = ""
    contact_id: str = ""
    lead_id: str = ""
    subscription_id: str = ""
    asset_id: str = ""  # B's own copy draft
    contacts: int = 0


@dataclass
class Outcome:
    """One answer as B (or A, for the control) received it."""

    is_error: bool
    text: str  # everything serialised: content, structured content, decoded cursors
    message: str  # the first text content (the error message for errors)
    structured: Any = None


@dataclass
class World:
    """The record of one canary round: what each side has, what B listed and sent, and every answer."""

    a: Planted
    b: BOwn
    tools: set[str] = field(default_factory=set)
    read_only_tools: set[str] = field(default_factory=set)
    resources: set[str] = field(default_factory=set)
    templates: set[str] = field(default_factory=set)
    prompts: set[str] = field(default_factory=set)
    sent: dict[str, Any] = field(default_factory=dict)  # case id -> the arguments B sent
    outcomes: dict[str, Outcome] = field(default_factory=dict)  # case id -> B's answer
    controls: dict[str, Outcome] = field(default_factory=dict)  # case id -> A's answer to the same call
    # case id -> B's answer when A's ids/tokens are swapped for made-up ones, and the swap made
    twins: dict[str, tuple[Outcome, dict[str, str]]] = field(default_factory=dict)
    a_before: dict[str, Any] = field(default_factory=dict)
    a_after: dict[str, Any] = field(default_factory=dict)
    a_rows_before: dict[str, int] = field(default_factory=dict)
    a_rows_after: dict[str, int] = field(default_factory=dict)
    calls: int = 0


# ------------------------------------------------------------------------------------------- the case table


@dataclass(frozen=True)
class Case:
    """One call B makes against A's data.

    ``args`` builds the tool/prompt arguments (for a template: the URI parameters) from the world.
    ``reveals``: the same call made by A must show A's data (the probe really aims at something).
    ``phase`` 2 cases make B store A's identities (uniqueness oracles), so they run after every other case.
    """

    kind: Kind
    name: str
    label: str
    args: Callable[[World], dict[str, Any]]
    expect: Expect = "any"
    reveals: bool = False
    phase: int = 1
    check: Callable[[World, Outcome], None] | None = None
    # A's ids/hashes this answer may carry because B itself supplied them (a prompt templates B's contact id;
    # B stored the very same logo bytes, so its file has the same hash). Any other of A's ids still fails.
    may_show: Callable[[World], set[str]] | None = None
    xfail: str | None = None  # a documented product bug: the case must fail until it is fixed

    @property
    def id(self) -> str:
        return f"{self.name}[{self.label}]"


def _none(_: World) -> dict[str, Any]:
    return {}


def _items(outcome: Outcome, key: str = "items") -> list[Any]:
    body = outcome.structured if outcome.structured is not None else json.loads(outcome.message)  # resources: text
    assert isinstance(body, dict), outcome.message
    items = body[key]
    assert isinstance(items, list)
    return items


def _no_items(_: World, outcome: Outcome) -> None:
    assert _items(outcome) == [], "B's page lists records although B has none matching"


def _empty_preview(_: World, outcome: Outcome) -> None:
    assert isinstance(outcome.structured, dict)
    assert outcome.structured["count"] == 0, "A's contacts are counted in B's segment preview"
    assert outcome.structured["sample"] == []


def _b_contacts_used(world: World, outcome: Outcome) -> None:
    assert isinstance(outcome.structured, dict)
    quotas = outcome.structured.get("quotas") or [outcome.structured.get("quota")]
    contacts = next(q for q in quotas if q and q["quota"] == "contacts")
    assert contacts["used"] == world.b.contacts, f"B's contact usage counts A's contacts: {contacts}"


def _rules_not_customized(_: World, outcome: Outcome) -> None:
    assert isinstance(outcome.structured, dict)
    assert outcome.structured["customized"] is False, "B sees customized scoring rules it never set"


def _only_shipped_flows(_: World, outcome: Outcome) -> None:
    sources = {item["id"]: item["source"] for item in _items(outcome)}
    assert set(sources.values()) == {"shipped"}, f"B lists tenant flows it never saved: {sources}"


def _shipped_bant(_: World, outcome: Outcome) -> None:
    shipped = load_default_flows()["bant-qualification"].model_dump(mode="json")
    assert json.loads(outcome.message) == shipped, "B reads a bant-qualification other than the shipped one"


def _deployment_account(_: World, outcome: Outcome) -> None:
    assert isinstance(outcome.structured, dict)
    assert outcome.structured["own_account"] is False, f"B is shown a tenant PayPal account: {outcome.structured}"


def _b_subscription(world: World, outcome: Outcome) -> None:
    assert isinstance(outcome.structured, dict)
    assert outcome.structured["subscription_id"] == world.b.subscription_id


def _new_person(_: World, outcome: Outcome) -> None:
    assert isinstance(outcome.structured, dict)
    assert outcome.structured["created"] is True, "an email known only to A was treated as a known person in B"


def _imported_as_new(_: World, outcome: Outcome) -> None:
    assert isinstance(outcome.structured, dict)
    report = outcome.structured
    assert (report["created"], report["unchanged"], report["rejected"]) == (2, 0, 0), f"A's rows deduped B's: {report}"


def _b_lead(**extra: Any) -> dict[str, Any]:
    return {"source_channel": "web_form", "email": f"lead-{uuid.uuid4().hex[:8]}@b-tenant.example", **extra}


def _b_csv(_: World) -> dict[str, Any]:
    rows = [f"imp-{uuid.uuid4().hex[:8]}@b-tenant.example,Bea,Import" for _ in range(2)]
    return {"csv_text": "email,first_name,last_name\n" + "\n".join(rows) + "\n"}


def _lint_codes(outcome: Outcome) -> set[str]:
    assert isinstance(outcome.structured, dict)
    return {issue["code"] for issue in outcome.structured["variant"]["lint"]["issues"]}


def _no_kit_rules(_: World, outcome: Outcome) -> None:
    codes = _lint_codes(outcome)
    assert not codes & {"banned_word", "missing_required_phrase"}, f"B's copy is linted with a kit B never set: {codes}"
    assert "unsubstantiated_claim" in codes, f"a claim A substantiated passes as proven in B's copy: {codes}"


def _local_ai(_: World, outcome: Outcome) -> None:
    assert isinstance(outcome.structured, dict)
    shown = {k: outcome.structured[k] for k in ("text_provider", "image_provider", "base_url", "api_key_stored")}
    assert shown == {"text_provider": "local", "image_provider": "local", "base_url": None, "api_key_stored": False}, (
        f"B is shown a provider choice B never made: {shown}"
    )


def _no_key_for_b(_: World, outcome: Outcome) -> None:
    assert isinstance(outcome.structured, dict)
    assert outcome.structured["text_provider"] == "openai_compatible", outcome.structured
    assert outcome.structured["text_model"] == "b-model", f"B's settings are not B's: {outcome.structured}"
    assert outcome.structured["api_key_stored"] is False, "B is told a key is stored for it (A's key?)"


def _no_key_used(_: World, outcome: Outcome) -> None:
    assert "no API key is configured" in outcome.message, f"B's call ran with a key B never stored: {outcome.message}"


def _b_asset(world: World, outcome: Outcome) -> None:
    assert isinstance(outcome.structured, dict)
    assert outcome.structured["id"] == world.b.asset_id, (
        f"B's decision answered for another asset: {outcome.structured}"
    )


def _b_first_kit(world: World, outcome: Outcome) -> None:
    assert isinstance(outcome.structured, dict)
    kit = outcome.structured
    assert (kit["version"], kit["is_default"]) == (1, True), f"B's first kit is not new in B: {kit}"
    assert (kit["voice"], kit["banned_words"]) == ("B's voice.", []), f"B's kit carries A's rules: {kit}"
    # The same bytes hash the same: the URI is B's own file (the only one of A's values this answer may show).
    assert kit["logo_uri"] == f"content://content/files/{world.a.files['logo']}", kit


def _b_extracted(_: World, outcome: Outcome) -> None:
    assert isinstance(outcome.structured, dict)
    assert outcome.structured["values"].get("email") == "bob@b-tenant.example", outcome.structured


def _a_kit(world: World, **extra: Any) -> dict[str, Any]:
    return {"brand_kit": world.a.kit_name, **extra}


def _a_asset(role: str, **extra: Any) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"asset_id": w.a.assets[role], **extra}


def _a_file(role: str) -> Callable[[World], dict[str, Any]]:
    return lambda w: {"sha256": w.a.files[role]}


B_TEXT = (
    "Hi, this is Bob Builder from B. We want pricing for 20 seats and a demo next week. "
    "Our budget is approved. Write to bob@b-tenant.example or call +14155550177."
)
B_BRIEF = "B's spring sale: Builder CRM saves 3 hours a week for small teams. Start a free trial."
# Copy that trips every kit rule A set: A's banned word, no required phrase, a claim A substantiated.
B_COPY = {"text": "Our cheap plan is the best CRM. Try it."}
EXTRACT_SCHEMA = {
    "type": "object",
    "properties": {"email": {"type": "string", "format": "email"}, "phone": {"type": "string", "format": "phone"}},
    "required": ["email"],
}


def _b_not_connected(_: World, outcome: Outcome) -> None:
    assert isinstance(outcome.structured, dict)
    shown = {item["platform"]: item["connection"] for item in outcome.structured["items"] if item["connection"]}
    assert not shown, f"B is shown connections B never made: {shown}"


def _b_own_portal(world: World, outcome: Outcome) -> None:
    assert isinstance(outcome.structured, dict)
    assert outcome.structured["status"] == "connected"
    assert outcome.structured["account_id"] != world.a.hubspot_account, "B was given A's HubSpot portal"


def _a_campaign(world: World, **arguments: Any) -> dict[str, Any]:
    return {"campaign_id": world.a.campaign_id, **arguments}


def _no_caps(_: World, outcome: Outcome) -> None:
    assert isinstance(outcome.structured, dict)
    caps = outcome.structured
    assert (caps["per_campaign"], caps["per_day"], caps["per_month"]) == (None, None, None), "B sees A's caps"
    assert float(caps["committed_daily"]) == 0, "A's live campaigns count against B's caps"


def _no_campaign_figures(_: World, outcome: Outcome) -> None:
    assert isinstance(outcome.structured, dict)
    assert outcome.structured["campaigns"] == [], "A's campaigns are measured in B's insights"
    assert outcome.structured["totals"]["leads"] == 0, "A's leads are counted in B's insights"


def _nothing_pulled(_: World, outcome: Outcome) -> None:
    assert isinstance(outcome.structured, dict)
    assert outcome.structured["campaigns"] == [], "B's refresh pulled A's campaigns"


def _b_caps(_: World, outcome: Outcome) -> None:
    assert isinstance(outcome.structured, dict)
    assert float(outcome.structured["per_day"]) == 10, "B's key replayed A's caps"


def tool(
    name: str,
    label: str,
    args: Callable[[World], dict[str, Any]] = _none,
    expect: Expect = "any",
    **options: Any,
) -> Case:
    return Case("tool", name, label, args, expect, **options)


CASES: list[Case] = [
    # ------------------------------------------------ business: plain reads first (B's usage is checked exactly)
    tool("business_get_usage", "plain", expect="ok", check=_b_contacts_used),
    tool(
        "business_check_entitlement", "contacts-quota", lambda w: {"feature": "contacts"}, "ok", check=_b_contacts_used
    ),
    tool("business_list_plans", "plain", expect="ok"),
    tool("business_get_subscription", "plain", expect="ok", reveals=True, check=_b_subscription),
    tool("business_check_entitlement", "canary-text", lambda w: {"feature": w.a.head}),
    tool("business_check_entitlement", "a-contact-id", lambda w: {"feature": w.a.contact_id}),
    tool("business_check_entitlement", "tool-name", lambda w: {"feature": "crm_import_leads"}, "ok"),
    tool("business_list_payments", "plain", expect="ok", reveals=True, check=_no_items),
    tool("business_list_payments", "a-cursor", lambda w: {"cursor": w.a.cursors["payments"], "limit": 1}, reveals=True),
    tool(
        "business_cancel_subscription", "a-token", lambda w: {"confirmation_token": w.a.confirmation_token}, "not_found"
    ),
    tool("business_cancel_subscription", "preview", expect="ok"),
    tool(
        "business_start_checkout",
        "a-key",
        lambda w: {"plan": "enterprise", "idempotency_key": w.a.keys["checkout"]},
        "ok",
    ),
    tool("business_get_paypal_account", "plain", expect="ok", check=_deployment_account),
    # Sandbox mode keeps every tenant on the simulator's account, so this is refused for B as it would be for A.
    tool(
        "business_set_paypal_account",
        "a-key",
        lambda w: {
            "client_id": "b-client",
            "client_secret": "b-secret",
            "webhook_id": "WHB",
            "idempotency_key": w.a.keys["checkout"],
        },
    ),
    # -------------------------------------------------------------------------------- contacts by id and search
    tool("crm_get_contact", "a-contact", lambda w: {"contact_id": w.a.contact_id}, "not_found", reveals=True),
    tool(
        "crm_get_contact", "a-merged-duplicate", lambda w: {"contact_id": w.a.duplicate_id}, "not_found", reveals=True
    ),
    tool("crm_get_contact", "a-lead-person", lambda w: {"contact_id": w.a.lead_contact_id}, "not_found", reveals=True),
    tool("crm_search_organizations", "plain", lambda w: {"limit": 100}, "ok", reveals=True),
    tool("crm_search_organizations", "a-name", lambda w: {"query": w.a.marker}, "ok", reveals=True, check=_no_items),
    tool("crm_search_organizations", "a-domain", lambda w: {"domain": w.a.domain}, "ok", reveals=True, check=_no_items),
    tool("crm_search_contacts", "plain", lambda w: {"limit": 100}, "ok", reveals=True),
    tool("crm_search_contacts", "canary-query", lambda w: {"query": w.a.head}, "ok", reveals=True, check=_no_items),
    tool("crm_search_contacts", "a-email", lambda w: {"query": w.a.email}, "ok", reveals=True, check=_no_items),
    tool("crm_search_contacts", "a-phone", lambda w: {"query": A_PHONES[0]}, "ok", reveals=True, check=_no_items),
    tool("crm_search_contacts", "a-organization", lambda w: {"organization_id": w.a.org_id}, reveals=True),
    tool("crm_search_contacts", "a-tag", lambda w: {"tag": w.a.tag}, "ok", reveals=True, check=_no_items),
    tool("crm_search_contacts", "a-owner", lambda w: {"owner": w.a.owner}, "ok", reveals=True, check=_no_items),
    tool("crm_search_contacts", "a-cursor", lambda w: {"cursor": w.a.cursors["contacts"], "limit": 1}, reveals=True),
    tool(
        "crm_search_contacts",
        "a-query-cursor",
        lambda w: {"query": w.a.head, "cursor": w.a.cursors["contacts_query"], "limit": 1},
        reveals=True,
    ),
    # ---------------------------------------------------------------------------------------- leads and rules
    tool("crm_get_lead", "a-lead", lambda w: {"lead_id": w.a.lead_id}, "not_found", reveals=True),
    tool("crm_get_lead", "a-imported-lead", lambda w: {"lead_id": w.a.import_lead_id}, "not_found", reveals=True),
    tool("crm_list_leads", "plain", lambda w: {"limit": 100}, "ok", reveals=True),
    tool("crm_list_leads", "a-segment", lambda w: {"segment_id": w.a.segment_id}, "not_found", reveals=True),
    tool("crm_list_leads", "a-owner", lambda w: {"owner": w.a.owner}, "ok", reveals=True, check=_no_items),
    tool("crm_list_leads", "a-cursor", lambda w: {"cursor": w.a.cursors["leads"], "limit": 1}, reveals=True),
    tool("crm_get_scoring_rules", "plain", expect="ok", reveals=True, check=_rules_not_customized),
    # --------------------------------------------------------------------------------------------- segments
    tool(
        "crm_preview_segment", "a-rule", lambda w: {"rule": w.a.segment_rule}, "ok", reveals=True, check=_empty_preview
    ),
    tool("crm_preview_segment", "a-segment", lambda w: {"segment_id": w.a.segment_id}, "not_found", reveals=True),
    tool("crm_list_segment_members", "a-segment", lambda w: {"segment_id": w.a.segment_id}, "not_found", reveals=True),
    tool(
        "crm_list_segment_members",
        "a-segment-cursor",
        lambda w: {"segment_id": w.a.segment_id, "cursor": w.a.cursors["members"], "limit": 1},
        "not_found",
        reveals=True,
    ),
    tool("crm_list_segments", "plain", expect="ok", reveals=True),
    # ---------------------------------------------------------------------------------------------- 360 view
    tool("crm_get_customer_360", "a-contact", lambda w: {"contact_id": w.a.contact_id}, "not_found", reveals=True),
    tool(
        "crm_get_customer_360",
        "a-merged-duplicate",
        lambda w: {"contact_id": w.a.duplicate_id},
        "not_found",
        reveals=True,
    ),
    tool(
        "crm_get_customer_360",
        "a-contact-a-timeline-cursor",
        lambda w: {"contact_id": w.a.contact_id, "timeline_cursor": w.a.cursors["timeline"], "timeline_limit": 1},
        "not_found",
        reveals=True,
    ),
    tool(
        "crm_get_customer_360",
        "b-contact-a-timeline-cursor",
        lambda w: {"contact_id": w.b.contact_id, "timeline_cursor": w.a.cursors["timeline"]},
        "rejected",
    ),
    tool("crm_get_customer_360", "b-contact", lambda w: {"contact_id": w.b.contact_id}, "ok"),
    # ----------------------------------------------------------------------- flows, resources and the prompt
    tool("crm_list_flows", "plain", expect="ok", reveals=True, check=_only_shipped_flows),
    Case("resource", "crm://crm/flows", "plain", _none, "ok", reveals=True, check=_only_shipped_flows),
    Case("resource", "crm://crm/scoring-rules", "plain", _none, "ok", reveals=True),
    Case("resource", "business://business/plans", "plain", _none, "ok"),
    Case(
        "template", "crm://crm/flows/{flow_id}", "a-flow", lambda w: {"flow_id": w.a.flow_id}, "not_found", reveals=True
    ),
    # A overrode the shipped flow for itself: B must still read the shipped definition.
    Case(
        "template",
        "crm://crm/flows/{flow_id}",
        "a-overridden-shipped-flow",
        lambda w: {"flow_id": "bant-qualification"},
        "ok",
        reveals=True,
        check=_shipped_bant,
    ),
    Case("prompt", "crm_qualify_lead", "a-email", lambda w: {"email": w.a.email}, "ok"),
    Case("prompt", "crm_qualify_lead", "a-email-voice", lambda w: {"email": w.a.lead_email, "channel": "voice"}, "ok"),
    # -------------------------------------------- mutations aimed at A's ids (alone or mixed with B's own ids)
    tool("crm_update_contact", "a-contact", lambda w: {"contact_id": w.a.contact_id, "first_name": "Bee"}, "not_found"),
    tool(
        "crm_update_contact",
        "a-merged-duplicate",
        lambda w: {"contact_id": w.a.duplicate_id, "tags": ["b-tag"]},
        "not_found",
    ),
    tool(
        "crm_update_contact",
        "b-contact-a-organization",
        lambda w: {"contact_id": w.b.contact_id, "organization_id": w.a.org_id},
        "not_found",
    ),
    tool(
        "crm_create_contact",
        "a-organization",
        lambda w: {"first_name": "Bee", "email": "bee-org@b-tenant.example", "organization_id": w.a.org_id},
        "not_found",
    ),
    tool(
        "crm_create_contact",
        "a-key",
        lambda w: {"first_name": "Bee", "email": "bee-key@b-tenant.example", "idempotency_key": w.a.keys["contact"]},
        "ok",
    ),
    tool(
        "crm_create_organization",
        "a-key",
        lambda w: {"name": "B Second Org", "idempotency_key": w.a.keys["organization"]},
        "ok",
    ),
    tool(
        "crm_merge_contacts",
        "b-survivor-a-duplicate",
        lambda w: {"survivor_id": w.b.contact_id, "duplicate_id": w.a.lead_contact_id},
        "not_found",
    ),
    tool(
        "crm_merge_contacts",
        "a-survivor-b-duplicate",
        lambda w: {"survivor_id": w.a.contact_id, "duplicate_id": w.b.contact_id},
        "not_found",
    ),
    tool(
        "crm_merge_contacts",
        "a-survivor-a-duplicate",
        lambda w: {"survivor_id": w.a.contact_id, "duplicate_id": w.a.lead_contact_id},
        "not_found",
    ),
    tool(
        "crm_capture_lead",
        "a-key",
        lambda w: _b_lead(first_name="Bee", idempotency_key=w.a.keys["capture"]),
        "ok",
        check=_new_person,
    ),
    tool("crm_update_lead", "a-lead-owner", lambda w: {"lead_id": w.a.lead_id, "owner": "b-owner"}, "not_found"),
    tool(
        "crm_update_lead", "a-lead-stage", lambda w: {"lead_id": w.a.import_lead_id, "stage": "customer"}, "not_found"
    ),
    tool("crm_classify_lead", "a-lead", lambda w: {"lead_id": w.a.lead_id}, "not_found"),
    tool(
        "crm_set_scoring_rules",
        "a-key",
        lambda w: {"overrides": {"description": "B's rules"}, "idempotency_key": w.a.keys["scoring"]},
        "ok",
    ),
    tool(
        "crm_log_interaction",
        "a-contact",
        lambda w: {"contact_id": w.a.contact_id, "channel": "chat", "direction": "inbound", "summary": "B"},
        "not_found",
    ),
    tool(
        "crm_log_interaction",
        "b-contact-a-lead",
        lambda w: {
            "contact_id": w.b.contact_id,
            "lead_id": w.a.lead_id,
            "channel": "email",
            "direction": "outbound",
            "summary": "B",
        },
        "not_found",
    ),
    tool(
        "crm_create_segment",
        "a-key",
        lambda w: {
            "name": "B segment",
            "rule": {"all": [{"field": "country", "op": "eq", "value": "US"}]},
            "idempotency_key": w.a.keys["segment"],
        },
        "ok",
    ),
    tool(
        "crm_start_flow",
        "a-contact",
        lambda w: {"flow_id": "bant-qualification", "contact_id": w.a.contact_id, "channel": "chat"},
        "not_found",
    ),
    tool(
        "crm_start_flow",
        "a-flow",
        lambda w: {"flow_id": w.a.flow_id, "contact_id": w.b.contact_id, "channel": "voice"},
        "not_found",
    ),
    tool("crm_advance_flow", "a-run", lambda w: {"run_id": w.a.run_id, "user_input": "urgent"}, "not_found"),
    tool(
        "crm_advance_flow",
        "a-run-a-key",
        lambda w: {"run_id": w.a.run_id, "user_input": "urgent", "idempotency_key": w.a.keys["advance"]},
        "not_found",
    ),
    tool("crm_import_leads", "plain", _b_csv, "ok"),
    # -------------------------------------------- content: brand kits (B has none: A's must not stand in for it)
    tool("content_get_brand_kit", "default", expect="not_found", reveals=True),
    tool("content_get_brand_kit", "a-kit", lambda w: {"name": w.a.kit_name}, "not_found", reveals=True),
    tool("content_get_brand_kit", "a-alt-kit", lambda w: {"name": w.a.alt_kit_name}, "not_found", reveals=True),
    Case("resource", "content://content/brand-kit", "plain", _none, "not_found", reveals=True),
    Case(
        "template",
        "content://content/brand-kits/{name}",
        "a-kit",
        lambda w: {"name": w.a.kit_name},
        "not_found",
        reveals=True,
    ),
    Case(
        "template",
        "content://content/brand-kits/{name}",
        "a-alt-kit",
        lambda w: {"name": w.a.alt_kit_name},
        "not_found",
        reveals=True,
    ),
    Case("resource", "content://content/channel-specs", "plain", _none, "ok"),
    tool(
        "content_check_copy",
        "a-kit",
        lambda w: _a_kit(w, copy=B_COPY, channel="sms", format="text"),
        "not_found",
        reveals=True,
    ),
    tool(
        "content_check_copy",
        "no-kit-a-rules",
        lambda w: {"copy": B_COPY, "channel": "sms", "format": "text"},
        "ok",
        check=_no_kit_rules,
    ),
    tool(
        "content_rewrite_copy",
        "a-kit",
        lambda w: _a_kit(w, copy=B_COPY, channel="x", format="post"),
        "not_found",
        reveals=True,
    ),
    tool(
        "content_rewrite_copy",
        "a-alt-kit",
        lambda w: {"copy": B_COPY, "channel": "sms", "format": "text", "brand_kit": w.a.alt_kit_name},
        "not_found",
        reveals=True,
    ),
    tool("content_rewrite_copy", "no-kit", lambda w: {"copy": B_COPY, "channel": "sms", "format": "text"}, "ok"),
    # ---------------------------------------- content: the library (B owns one draft; lists before B adds more)
    tool("content_list_assets", "plain", lambda w: {"limit": 100}, "ok", reveals=True),
    tool("content_list_assets", "a-channel", lambda w: {"channel": "x"}, "ok", reveals=True, check=_no_items),
    tool("content_list_assets", "a-approved", lambda w: {"status": "approved"}, "ok", reveals=True, check=_no_items),
    tool("content_list_assets", "a-rejected", lambda w: {"status": "rejected"}, "ok", reveals=True, check=_no_items),
    tool("content_list_assets", "a-in-review", lambda w: {"status": "in_review"}, "ok", reveals=True, check=_no_items),
    tool("content_list_assets", "a-videos", lambda w: {"kind": "video"}, "ok", reveals=True, check=_no_items),
    tool("content_list_assets", "a-images", lambda w: {"kind": "image"}, "ok", reveals=True, check=_no_items),
    tool("content_list_assets", "a-cursor", lambda w: {"cursor": w.a.cursors["assets"], "limit": 1}, reveals=True),
    tool(
        "content_list_assets",
        "a-copy-cursor",
        lambda w: {"kind": "copy", "cursor": w.a.cursors["assets_copy"], "limit": 1},
        reveals=True,
    ),
    *[
        tool("content_get_asset", f"a-{role}", _a_asset(role), "not_found", reveals=True)
        for role in ("x_approved", "x_rejected", "sms_draft", "sms_review", "image", "video")
    ],
    *[
        Case(
            "template",
            "content://content/assets/{asset_id}",
            f"a-{role}",
            _a_asset(role),
            "not_found",
            reveals=True,
        )
        for role in ("x_approved", "image", "video")
    ],
    *[
        Case(
            "template",
            "content://content/files/{sha256}",
            f"a-{role}",
            _a_file(role),
            "not_found",
            reveals=True,
        )
        for role in ("logo", "image", "video")
    ],
    # Review decisions on A's assets in every state: each says not found (never "it is approved").
    *[
        tool(decision, f"a-{role}", _a_asset(role, **note), "not_found")
        for decision, role, note in (
            ("content_submit_asset", "sms_draft", {}),
            ("content_submit_asset", "image", {}),
            ("content_submit_asset", "x_approved", {}),
            ("content_approve_asset", "image", {"note": "B approves"}),
            ("content_approve_asset", "sms_review", {}),
            ("content_approve_asset", "x_approved", {}),
            ("content_approve_asset", "x_rejected", {"note": "B approves"}),
            ("content_reject_asset", "sms_review", {"note": "B rejects"}),
            ("content_reject_asset", "sms_draft", {"note": "B rejects"}),
            ("content_reject_asset", "x_rejected", {"note": "B rejects"}),
        )
    ],
    tool(
        "content_submit_asset",
        "b-asset-a-key",
        lambda w: {"asset_id": w.b.asset_id, "idempotency_key": w.a.keys["submit"]},
        "ok",
        check=_b_asset,
    ),
    tool(
        "content_approve_asset",
        "b-asset-a-key",
        lambda w: {"asset_id": w.b.asset_id, "note": "B's approval", "idempotency_key": w.a.keys["approve"]},
        "ok",
        check=_b_asset,
    ),
    tool(
        "content_reject_asset",
        "b-approved-asset-a-key",
        lambda w: {"asset_id": w.b.asset_id, "note": "B's rejection", "idempotency_key": w.a.keys["reject"]},
        "rejected",
    ),
    # ---------------------------------------------------------- content: generation aimed at A's kits and keys
    tool(
        "content_generate_copy",
        "a-kit",
        lambda w: _a_kit(w, brief=B_BRIEF, channel="email", format="message", variants=1),
        "not_found",
    ),
    tool(
        "content_generate_copy",
        "a-key",
        lambda w: {
            "brief": B_BRIEF,
            "channel": "email",
            "format": "message",
            "variants": 1,
            "idempotency_key": w.a.keys["copy"],
        },
        "ok",
    ),
    tool(
        "content_generate_image",
        "a-kit",
        lambda w: _a_kit(w, brief=B_BRIEF, placement="meta_feed_square"),
        "not_found",
    ),
    tool(
        "content_generate_image",
        "a-key",
        lambda w: {"brief": B_BRIEF, "placement": "google_rda_square", "idempotency_key": w.a.keys["image"]},
        "ok",
    ),
    tool(
        "content_generate_video",
        "a-kit",
        lambda w: _a_kit(w, brief=B_BRIEF, placement="meta_story_video", duration_seconds=1.5),
        "not_found",
    ),
    tool(
        "content_generate_video",
        "b-brief-min-duration",
        lambda w: {"brief": B_BRIEF, "placement": "meta_story_video", "duration_seconds": 1},
        "rejected",  # a brief makes three scenes: under 1.5 s is refused, naming duration_seconds
    ),
    # -------------------------------------------------- content: AI services on B's own text, B's provider choice
    tool("content_get_ai_settings", "plain", expect="ok", reveals=True, check=_local_ai),
    tool("content_classify_text", "b-text", lambda w: {"text": B_TEXT}, "ok"),
    tool(
        "content_classify_text",
        "b-text-a-topics",
        lambda w: {"text": f"{B_TEXT} {w.a.head}", "topics": [w.a.head, "pricing"]},
        "ok",
    ),
    tool(
        "content_summarize", "b-text", lambda w: {"text": f"{B_TEXT} Ask about {w.a.head}.", "max_sentences": 2}, "ok"
    ),
    tool(
        "content_extract_fields",
        "b-text",
        lambda w: {"text": B_TEXT, "schema": EXTRACT_SCHEMA},
        "ok",
        check=_b_extracted,
    ),
    # ------------------------------------------------------------------------- the cross-context playbooks
    Case(
        "prompt",
        "launch_campaign_for_goal",
        "a-canary-goal",
        lambda w: {"goal": f"40 demos for {w.a.head}", "channels": "x,sms,meta", "budget": "5000 EUR"},
        "ok",
    ),
    Case(
        "prompt",
        "write_ad_set",
        "a-canary-brief",
        lambda w: {"brief": f"Launch of {w.a.head}", "channel": "x", "format": "post", "placement": "meta_feed_square"},
        "ok",
    ),
    Case("prompt", "weekly_performance_report", "plain", lambda w: {"week_start": "2026-11-30"}, "ok"),
    # The playbook only templates the contact id B gives it (and must answer alike for a made-up id).
    Case(
        "prompt",
        "follow_up_sequence",
        "a-contact",
        lambda w: {"contact_id": w.a.contact_id, "steps": "2", "channel": "sms"},
        "ok",
        may_show=lambda w: {w.a.contact_id},
    ),
    # --------------------------------- phase 2: B stores A's identities (uniqueness and dedupe are per tenant)
    tool("crm_create_organization", "a-domain", lambda w: {"name": "B Org Twin", "domain": w.a.domain}, "ok", phase=2),
    tool(
        "crm_create_contact",
        "a-email-and-phone",
        lambda w: {"first_name": "Bee", "email": w.a.email, "phone": A_PHONES[0]},
        "ok",
        phase=2,
    ),
    tool(
        "crm_capture_lead",
        "a-email",
        lambda w: {"source_channel": "web_form", "email": w.a.lead_email},
        "ok",
        phase=2,
        check=_new_person,
    ),
    tool(
        "crm_create_segment",
        "a-name-and-rule",
        lambda w: {"name": w.a.segment_name, "rule": w.a.segment_rule},
        "ok",
        phase=2,
    ),
    tool("crm_import_leads", "a-csv", lambda w: {"csv_text": w.a.csv_text}, "ok", phase=2, check=_imported_as_new),
    # B stores a kit with A's name and A's very logo (per-tenant names; content-addressed files stored per tenant).
    tool(
        "content_set_brand_kit",
        "a-name-and-logo",
        lambda w: {"name": w.a.kit_name, "voice": "B's voice.", "logo_png_base64": w.a.logo_png_base64},
        "ok",
        phase=2,
        check=_b_first_kit,
        may_show=lambda w: {w.a.files["logo"]},
    ),
    tool(
        "content_set_brand_kit",
        "a-key",
        lambda w: {"name": "B Kit", "voice": "B's voice.", "idempotency_key": w.a.keys["kit"]},
        "ok",
        phase=2,
    ),
    # B picks A's provider and base URL without a key: A's sealed key must neither count as B's nor be used.
    tool(
        "content_set_ai_provider",
        "a-provider-a-key",
        lambda w: {
            "text_provider": "openai_compatible",
            "text_model": "b-model",
            "base_url": "http://127.0.0.1:9/v1",
            "idempotency_key": w.a.keys["ai"],
        },
        "ok",
        phase=2,
        check=_no_key_for_b,
    ),
    tool("content_get_ai_settings", "a-provider", expect="ok", phase=2, check=_no_key_for_b),
    tool("content_classify_text", "a-provider", lambda w: {"text": B_TEXT}, "rejected", phase=2, check=_no_key_used),
    tool("content_set_ai_provider", "back-to-local", lambda w: {"text_provider": "local"}, "ok", phase=2),
    tool("content_get_ai_settings", "back-to-local", expect="ok", phase=2, check=_local_ai),
    # -------------------------------------------------- integrations: A's connection, runs and portal stay A's
    tool("integrations_list_connectors", "plain", expect="ok", reveals=True, check=_b_not_connected),
    tool("integrations_list_sync_runs", "plain", expect="ok", reveals=True),
    tool("integrations_list_sync_runs", "a-platform", lambda w: {"platform": "hubspot"}, "ok", reveals=True),
    tool("integrations_list_sync_runs", "a-cursor", lambda w: {"cursor": w.a.cursors["sync_runs"]}),
    tool("integrations_get_sync_run", "a-run", lambda w: {"run_id": w.a.sync_run_id}, "not_found", reveals=True),
    tool("integrations_test_connection", "a-platform", lambda w: {"platform": "hubspot"}, "rejected"),
    tool("integrations_list_designs", "a-platform", lambda w: {"platform": "canva"}, "rejected"),
    tool("content_push_brand_kit", "a-platform", lambda w: {"platform": "canva"}),
    tool(
        "content_import_design",
        "a-design",
        lambda w: {"platform": "canva", "design_id": w.a.design_id},
        "rejected",
    ),
    tool("integrations_sync", "a-platform", lambda w: {"platform": "hubspot"}, "rejected"),
    tool("integrations_disconnect", "a-platform", lambda w: {"platform": "hubspot"}, "not_found"),
    tool(
        "integrations_send_message",
        "a-contact",
        lambda w: {"contact_id": w.a.contact_id, "template_name": "hello_world"},
        "not_found",
    ),
    tool("integrations_send_message", "b-contact", lambda w: {"contact_id": w.b.contact_id, "text": "Hi"}, "rejected"),
    tool(
        "integrations_list_ad_accounts", "a-platform", lambda w: {"platform": "google_ads"}, "not_found", reveals=True
    ),
    tool(
        "integrations_connect",
        "a-key",
        lambda w: {"platform": "hubspot", "idempotency_key": w.a.keys["connect"]},
        "ok",
        phase=2,
        check=_b_own_portal,
    ),
    # ------------------------------------------------------------ campaigns: A's campaign, changes and caps stay A's
    # ------------------------------------------------ analytics (campaigns server)
    tool("campaigns_get_insights", "plain", expect="ok", reveals=True, check=_no_campaign_figures),
    tool("campaigns_get_insights", "a-campaign", lambda w: {"campaign_ids": [w.a.campaign_id]}, "not_found"),
    tool("campaigns_refresh_performance", "plain", expect="ok", check=_nothing_pulled),
    tool("campaigns_refresh_performance", "a-campaign", lambda w: {"campaign_ids": [w.a.campaign_id]}, "not_found"),
    tool("campaigns_get_attribution", "plain", lambda w: {"models": ["last_touch"], "conversion": "lead"}),
    tool("campaigns_compare_attribution_models", "plain", lambda w: {"models": ["last_touch", "linear"]}),
    tool(
        "campaigns_create_experiment",
        "a-campaign",
        lambda w: {
            "name": "B's test",
            "subject": "email",
            "variants": [{"key": "a"}, {"key": "b"}],
            "primary_metric": "customer",
            "minimum_detectable_effect": 0.2,
            "baseline": 0.05,
            "units_per_day": 100,
            "campaign_id": w.a.campaign_id,
        },
        "not_found",
    ),
    tool(
        "campaigns_assign_variant",
        "a-experiment",
        lambda w: {"experiment_id": w.a.experiment_id, "contact_id": w.b.contact_id},
        "not_found",
    ),
    tool(
        "campaigns_get_experiment_results",
        "a-experiment",
        lambda w: {"experiment_id": w.a.experiment_id},
        "not_found",
    ),
    tool("campaigns_list_experiments", "plain", expect="ok", reveals=True, check=_no_items),
    tool("campaigns_list_experiments", "a-cursor", lambda w: {"cursor": w.a.cursors["experiments"]}),
    tool(
        "campaigns_end_experiment",
        "a-experiment",
        lambda w: {"experiment_id": w.a.experiment_id, "decision": "stop"},
        "not_found",
    ),
    tool("campaigns_list_campaigns", "plain", expect="ok", reveals=True, check=_no_items),
    tool("campaigns_list_campaigns", "a-status", lambda w: {"status": "active"}, "ok", reveals=True, check=_no_items),
    tool("campaigns_list_campaigns", "a-cursor", lambda w: {"cursor": w.a.cursors["campaigns"]}),
    tool("campaigns_get_campaign", "a-campaign", lambda w: _a_campaign(w), "not_found", reveals=True),
    tool("campaigns_check_compliance", "a-campaign", lambda w: _a_campaign(w), "not_found", reveals=True),
    tool("campaigns_get_spend_caps", "plain", expect="ok", check=_no_caps),  # caps carry no marker to reveal
    tool("campaigns_update_campaign", "a-campaign", lambda w: _a_campaign(w, name="B's name"), "not_found"),
    tool("campaigns_submit_for_review", "a-campaign", lambda w: _a_campaign(w), "not_found"),
    tool(
        "campaigns_approve_campaign",
        "a-campaign",
        lambda w: _a_campaign(w, decision="reject", note="B says no"),
        "not_found",
    ),
    tool("campaigns_preview_activation", "a-campaign", lambda w: _a_campaign(w), "not_found"),
    tool(
        "campaigns_activate_campaign",
        "a-campaign-a-token",
        lambda w: _a_campaign(w, confirmation_token=w.a.campaign_token),
        "not_found",
    ),
    tool("campaigns_pause_campaign", "a-campaign", lambda w: _a_campaign(w, reason="B pauses"), "not_found"),
    tool("campaigns_resume_campaign", "a-campaign", lambda w: _a_campaign(w, reason="B resumes"), "not_found"),
    tool("campaigns_end_campaign", "a-campaign", lambda w: _a_campaign(w, reason="B ends", archive=True), "not_found"),
    tool(
        "campaigns_update_budget",
        "a-campaign",
        lambda w: _a_campaign(w, daily_budget=1, reason="B starves it"),
        "not_found",
    ),
    tool(
        "campaigns_rollback_change",
        "a-campaign-a-change",
        lambda w: _a_campaign(w, change_id=w.a.change_id, reason="B undoes it"),
        "not_found",
    ),
    # B plans and caps with A's keys: keys are per tenant, so B gets a campaign and caps of its own.
    tool(
        "campaigns_plan_campaign",
        "a-key",
        lambda w: {
            "name": "B's plan",
            "objective": "traffic",
            "product": "B's product",
            "markets": [{"country": "US"}],
            "start_date": "2030-03-01",
            "end_date": "2030-03-31",
            "landing_url": "https://b-tenant.example/",
            "budget": 1000,
            "idempotency_key": w.a.keys["plan"],
        },
        "ok",
        phase=2,
    ),
    tool(
        "campaigns_set_spend_caps",
        "a-key",
        lambda w: {"currency": "EUR", "per_day": 10, "idempotency_key": w.a.keys["caps"]},
        "ok",
        phase=2,
        check=_b_caps,
    ),
]
