"""Cross-tenant canary: what tenant A plants is never visible to tenant B, through any tool, resource or prompt.

Two process runtimes share one Postgres database (row-level security forced for ``promptsales_app``), one per
tenant. Tenant A plants data that carries a unique marker (``CANARY<hex>``) in every free-text field it can:
organization, contacts (names, emails, phone, tags, attributes, consent source), leads (company, campaign, UTM,
referrer, owner, tags), interactions, custom scoring rules, a segment, tenant flows (one of them overriding the
shipped ``bant-qualification``), a flow run with canary answers, a CSV import, a merge, a paid PayPal
subscription with payments and a pending cancellation token, and content: two brand kits (voice, fonts, banned
words, required phrases, substantiated claims; one with a logo file), copy, an image and a video in every review
state (canary briefs and decision notes), and its own model provider with a sealed API key.

Tenant B then calls every tool of its ``tools/list``, reads every resource and resource template and renders
every prompt, aiming at A's data: A's ids in id parameters (alone and mixed with B's own ids), the marker's head
in search parameters, A's exact emails/phones/tags/owner in filters, A's cursors, A's confirmation token, A's
idempotency keys, A's brand kit names, asset ids and file hashes. Every answer (success or error, text and
structured content, decoded cursors) must never contain the marker's tail nor A's phones; A's ids may only
appear in errors that say the record was not found or the value is not valid, and only the ids B sent. Each call
that carries A's ids (or kit names) is repeated with made-up ones of the same shape: the answers must be the
same (no existence oracle). Phase 2 makes B store A's domain, email, phone, segment name, CSV rows, brand kit
name and logo bytes, and A's model provider without a key: uniqueness, import dedupe and A's sealed key must
neither reveal nor lend anything. A's own view of its data is the same before and after B's round, and A's row
counts per table are unchanged. A positive control reruns B's read-only probes as A: they must reveal A's data
(and the leak check must flag A's answer), so a probe that would find nothing anyway cannot pass silently.

The case table is self-checking: the tools, static resources, resource templates and prompts that B lists must
equal what the table covers, so a tool added later without a canary case fails here. The last test checks at
the SQL level that RLS is what protects (as ``promptsales_app`` with B's tenant set, none of A's rows exist).
"""

import base64
import binascii
import contextlib
import hashlib
import io
import json
import logging
import re
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
import pytest_asyncio
import structlog
from fastmcp import Client
from PIL import Image
from psycopg import sql

from promptsales.domain_core.crm.dto import FlowDefinitionView
from promptsales.domain_core.crm.model.flows import load_default_flows
from promptsales.domain_core.crm.service import flows as flow_service
from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.domain_core.infrastructure.uow import UnitOfWork
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.ids import new_id
from promptsales.servers.gateway import build_gateway
from promptsales.servers.runtime import Runtime
from tests.integration.canary_calls import (
    A_PHONES,
    B_PHONE,
    CASES,
    CRASH_MARKERS,
    ID_PATTERN,
    NOT_FOUND,
    BOwn,
    Case,
    Kind,
    Outcome,
    Planted,
    World,
)
from tests.integration.conftest import APP_ROLE, owner_connect, pg_url

pytestmark = pytest.mark.postgres

SHA256 = re.compile(r"[0-9a-f]{64}")
CONTEXTS = ("crm", "campaigns", "content", "business", "integrations")


def _params() -> Iterator[Any]:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)), "case ids must be unique"
    for case in CASES:
        marks = [pytest.mark.xfail(strict=True, reason=case.xfail)] if case.xfail else []
        yield pytest.param(case, id=case.id, marks=marks)


# ------------------------------------------------------------------------------------------------ calling


def _decoded_cursors(value: Any) -> list[str]:
    """Cursor strings inside an answer, decoded (they are base64 JSON: an id could hide in them)."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and "cursor" in key:
                try:
                    found.append(base64.urlsafe_b64decode(item + "=" * (-len(item) % 4)).decode())
                except (binascii.Error, UnicodeDecodeError, ValueError):
                    found.append(item)
            else:
                found.extend(_decoded_cursors(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_decoded_cursors(item))
    return found


def _outcome(is_error: bool, contents: list[Any], structured: Any) -> Outcome:
    dumped = [c.model_dump(mode="json") if hasattr(c, "model_dump") else str(c) for c in contents]
    texts = [str(getattr(c, "text", "")) for c in contents]
    text = json.dumps({"content": dumped, "structured": structured}, sort_keys=True, default=str)
    cursors = _decoded_cursors(structured)
    for t in texts:  # tool results repeat the structured content as JSON text; resources are JSON text only
        with contextlib.suppress(ValueError):
            cursors.extend(_decoded_cursors(json.loads(t)))
    return Outcome(
        is_error=is_error,
        text="\n".join([text, *cursors]),
        message=next((t for t in texts if t), ""),  # the first text (an image result leads with the image)
        structured=structured,
    )


def _uri(case: Case, args: dict[str, Any]) -> str:
    if case.kind == "resource":
        return case.name
    uri = case.name
    for key, value in args.items():
        uri = uri.replace("{" + key + "}", str(value))
    return uri


async def _call(client: Client[Any], case: Case, args: dict[str, Any]) -> Outcome:
    if case.kind == "tool":
        result = await client.call_tool_mcp(case.name, args)
        return _outcome(bool(result.is_error), list(result.content), result.structured_content)
    try:
        if case.kind == "prompt":
            rendered = await client.get_prompt_mcp(case.name, args)
            return _outcome(False, [m.content for m in rendered.messages], None)
        read = await client.read_resource_mcp(_uri(case, args))
        return _outcome(False, list(read.contents), None)
    except Exception as exc:  # resources and prompts report errors by raising (McpError)
        return Outcome(is_error=True, text=f"{type(exc).__name__}: {exc}", message=str(exc))


async def _ok(client: Client[Any], tool: str, **args: Any) -> dict[str, Any]:
    result = await client.call_tool_mcp(tool, args)
    text = next((str(c.text) for c in result.content if hasattr(c, "text")), "")  # an image comes first
    assert not result.is_error, f"{tool} failed: {text}"
    assert isinstance(result.structured_content, dict)
    return result.structured_content


# --------------------------------------------------------------------------------------------- the checks


def _fake_like(value: str, a: Planted) -> str:
    """A made-up value of the same shape as A's id/token ``value``, that exists in no tenant."""
    if ID_PATTERN.fullmatch(value):
        return new_id(value.split("_", 1)[0])
    if value.startswith("cf_"):
        return "cf_" + secrets.token_urlsafe(24)
    if SHA256.fullmatch(value):
        return secrets.token_hex(32)
    if value in a.kit_names:
        return value.replace(a.hex, uuid.uuid4().hex)
    assert value == a.flow_id, value
    return f"flow-{uuid.uuid4().hex[:12]}"


def _twin(args: Any, a: Planted, swap: dict[str, str]) -> Any:
    """``args`` with each of A's ids and tokens replaced by a made-up one (recorded in ``swap``)."""
    if isinstance(args, str) and (args in a.forbidden_ids or args == a.flow_id or args in a.kit_names):
        return swap.setdefault(args, _fake_like(args, a))
    if isinstance(args, dict):
        return {key: _twin(value, a, swap) for key, value in args.items()}
    if isinstance(args, list):
        return [_twin(value, a, swap) for value in args]
    return args


def _masked(text: str, values: Any) -> str:
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, "<ref>")
    return text


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def _without_echo(text: str, sent: Any, a: Planted) -> str:
    """``text`` lower-cased, minus the canary-bearing strings B itself sent (a tool may echo its input)."""
    lowered = text.lower()
    echoes = {s.lower() for s in _strings(sent) if a.hex[:6] in s.lower() or any(p[2:] in s for p in A_PHONES)}
    for echo in sorted(echoes, key=len, reverse=True):
        lowered = lowered.replace(echo, "<echo>")
    return lowered


def _phone_digits(phone: str) -> tuple[str, ...]:
    national = phone[2:] if phone.startswith("+1") else phone[3:]
    return (phone, national)


def problems(case: Case, outcome: Outcome, world: World) -> list[str]:
    """Everything wrong with B's answer to ``case``; empty when B learned nothing about A."""
    a = world.a
    found: list[str] = []
    visible = _without_echo(outcome.text, world.sent[case.id], a)
    if a.tail.lower() in visible:
        at = visible.index(a.tail.lower())
        found.append(f"canary marker leaked: ...{outcome.text[max(0, at - 120) : at + 80]}...")
    for phone in A_PHONES:
        if any(d in visible for d in _phone_digits(phone)):
            found.append(f"A's phone {phone} leaked")
    shown = case.may_show(world) if case.may_show is not None else set()
    leaked_ids = sorted(i for i in a.forbidden_ids - shown if i in outcome.text)
    if leaked_ids and not outcome.is_error:
        found.append(f"A's ids in a successful answer: {leaked_ids}")
    # A refusal may name the ids B itself sent (echo), never another of A's ids (e.g. a merge survivor).
    sent = set(_strings(world.sent[case.id]))
    unsent = [i for i in leaked_ids if not any(i in s for s in sent)]
    if outcome.is_error and unsent:
        found.append(f"A's ids that B never sent, in an error: {unsent}: {outcome.message}")
    if outcome.is_error and leaked_ids and not NOT_FOUND.search(outcome.message) and case.expect != "any":
        found.append(f"A's ids in an error that is not a not-found/not-valid answer: {outcome.message}")
    if outcome.is_error:
        crash = [m for m in CRASH_MARKERS if m in outcome.message.lower()]
        if crash:
            found.append(f"crashed ({crash}): {outcome.message}")
    if case.expect == "ok" and outcome.is_error:
        found.append(f"expected success, got: {outcome.message}")
    if case.expect in ("not_found", "rejected") and not outcome.is_error:
        found.append(f"expected a refusal, got success: {outcome.text[:400]}")
    if case.expect == "not_found" and outcome.is_error and not NOT_FOUND.search(outcome.message):
        found.append(f"expected not found / not valid, got: {outcome.message}")
    return found


# --------------------------------------------------------------------------------------------- the world


def _settings(database: str, data_dir: Path, tenant: str, actor: str) -> Settings:
    return Settings(
        database_url=pg_url(database),
        data_dir=data_dir,
        tenant=tenant,
        actor=actor,
        toolsets=CONTEXTS,
        # Deterministic writers: local unless a tenant chose otherwise, and no deployment keys to fall back on.
        content_text_provider="local",
        content_image_provider="local",
        content_base_url=None,
        openai_api_key=None,
        anthropic_api_key=None,
        default_plan="enterprise",
        rate_limits_enabled=False,
        entitlement_cache_seconds=0,
        redis_url=None,
        database_pool_size=5,
    )


def _logo_png_base64() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), "#0A7E8C").save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def _planted(tenant: str) -> Planted:
    hex_ = uuid.uuid4().hex
    marker = f"CANARY{hex_}"
    domain = f"canary-{hex_}.example"
    tag = f"tag-{marker}"
    segment_rule = {
        "any": [
            {"field": "tags", "op": "contains", "value": tag},
            {"field": "email_domain", "op": "eq", "value": domain},
        ]
    }
    csv_rows = [
        f"imp1-{hex_}@{domain},Imp{marker},One{marker},Co {marker},import,camp-{marker},src-{marker},tag-{marker};x",
        f"imp2-{hex_}@{domain},Imp{marker},Two{marker},Co {marker},import,camp-{marker},src-{marker},tag-{marker}",
    ]
    return Planted(
        tenant=tenant,
        hex=hex_,
        marker=marker,
        head=marker[:12],
        tail=hex_[6:],
        email=f"ada-{hex_}@{domain}",
        duplicate_email=f"dup-{hex_}@{domain}",
        lead_email=f"lead-{hex_}@{domain}",
        domain=domain,
        tag=tag,
        owner=f"owner-{marker}",
        segment_name=f"Segment {marker}",
        segment_rule=segment_rule,
        scoring_overrides={
            "description": f"Rules of {marker}",
            "fit": {"industry": {"points": {f"industry{hex_}": 15}}},
        },
        csv_text="email,first_name,last_name,company,source,campaign,utm_source,tags\n" + "\n".join(csv_rows) + "\n",
        flow_id=f"flow-{uuid.uuid4().hex[:12]}",
        kit_name=f"Kit-{marker}",
        alt_kit_name=f"Alt-{marker}",
        logo_png_base64=_logo_png_base64(),
        api_key=f"sk-{marker}-{secrets.token_hex(12)}",
        keys={
            name: f"key-{name}-{uuid.uuid4().hex}"
            for name in (
                "organization",
                "contact",
                "capture",
                "scoring",
                "segment",
                "advance",
                "checkout",
                "interaction",
                "kit",
                "copy",
                "image",
                "video",
                "submit",
                "approve",
                "reject",
                "ai",
                "connect",
                "plan",
                "campaign_update",
                "activate",
                "budget",
                "caps",
            )
        },
    )


def _tenant_flow(a: Planted, flow_id: str) -> dict[str, Any]:
    m = a.marker
    return {
        "id": flow_id,
        "name": f"Flow {m}",
        "description": f"Tenant flow of {m}",
        "start": "greet",
        "steps": {
            "greet": {"type": "say", "text": f"Hello from {m}", "next": "ask_note"},
            "ask_note": {"type": "ask", "text": f"Note for {m}?", "field": "canary_note", "next": "ask_more"},
            "ask_more": {"type": "ask", "text": f"More for {m}?", "field": "canary_more", "next": "tag"},
            "tag": {"type": "add_tag", "tag": f"flowtag-{m}", "next": "bye"},
            "bye": {"type": "end", "text": f"Bye from {m}"},
        },
    }


def _overridden_bant(a: Planted) -> dict[str, Any]:
    bant = load_default_flows()["bant-qualification"].model_dump(mode="json")
    bant["name"] = f"BANT of {a.marker}"
    bant["description"] = f"Overridden by {a.marker}"
    bant["steps"]["greet"]["text"] = f"Hi {{first_name}}, {a.marker} here."
    return bant


async def _save_flow(runtime: Runtime, a: Planted, definition: dict[str, Any]) -> None:
    """Tenant flows have no tool yet: store one through the CRM service in A's unit of work."""

    async def work(uow: UnitOfWork) -> FlowDefinitionView:
        flow = await flow_service.save_definition(uow, raw=definition)
        return FlowDefinitionView(definition=flow.model_dump(mode="json"))

    await runtime.uow.mutate(
        Caller(tenant_id=a.tenant, actor_id="agent-a"),
        action="crm.save_flow",
        arguments={"flow_id": definition["id"]},
        idempotency_key=None,
        work=work,
        result_type=FlowDefinitionView,
    )


async def _plant(client: Client[Any], runtime: Runtime, a: Planted) -> None:
    m, k = a.marker, a.keys
    org = await _ok(
        client,
        "crm_create_organization",
        name=f"Org {m}",
        domain=a.domain,
        industry=f"industry{a.hex}",
        employee_count=120,
        country="US",
        region=f"Region {m}",
        idempotency_key=k["organization"],
    )
    a.org_id = org["id"]
    consent = {"email": {"granted": True, "source": f"src-{m}"}}
    contact = await _ok(
        client,
        "crm_create_contact",
        first_name=f"Ada{m}",
        last_name=f"Lovelace{m}",
        email=a.email,
        phone=A_PHONES[0],
        title=f"CTO {m}",
        organization_id=a.org_id,
        country="US",
        region=f"Region {m}",
        owner=a.owner,
        tags=[a.tag],
        attributes={"note": f"secret {m}", f"key{a.hex}": "value"},
        consent=consent,
        idempotency_key=k["contact"],
    )
    a.contact_id = contact["id"]
    duplicate = await _ok(
        client,
        "crm_create_contact",
        first_name=f"Dup{m}",
        email=a.duplicate_email,
        phone=A_PHONES[1],
        tags=[f"dup-{m}"],
        attributes={"dup": f"dup {m}"},
    )
    a.duplicate_id = duplicate["id"]
    utm = {"source": f"src-{m}", "medium": f"med-{m}", "campaign": f"camp-{m}", "term": f"t-{m}", "content": f"c-{m}"}
    touch = await _ok(
        client,
        "crm_capture_lead",
        source_channel="web_form",
        email=a.email,
        company=f"Co {m}",
        company_domain=a.domain,
        industry=f"industry{a.hex}",
        employee_count=120,
        campaign_ref=f"camp-{m}",
        utm=utm,
        referrer=f"https://{a.domain}/ref",
        landing_page=f"https://{a.domain}/landing",
        owner=a.owner,
        tags=[f"lead-{m}"],
        consent=consent,
        idempotency_key=k["capture"],
    )
    a.lead_id = touch["lead"]["id"]
    person = await _ok(
        client,
        "crm_capture_lead",
        source_channel="chat",
        email=a.lead_email,
        first_name=f"Lee{m}",
        title=f"VP {m}",
        company=f"Co {m}",
        campaign_ref=f"camp2-{m}",
        owner=a.owner,
    )
    a.lead_contact_id = person["contact"]["id"]
    await _ok(client, "crm_capture_lead", source_channel="email", email=a.duplicate_email, campaign_ref=f"dup-{m}")
    for n in range(2):
        await _ok(
            client,
            "crm_log_interaction",
            contact_id=a.contact_id,
            channel="chat",
            direction="inbound",
            summary=f"Summary {n} {m}",
            transcript=f"Transcript {n}: {m} said hello",
            lead_id=a.lead_id,
            idempotency_key=f"{k['interaction']}-{n}",
        )
    await _ok(client, "crm_set_scoring_rules", overrides=a.scoring_overrides, idempotency_key=k["scoring"])
    segment = await _ok(
        client,
        "crm_create_segment",
        name=a.segment_name,
        description=f"About {m}",
        rule=a.segment_rule,
        idempotency_key=k["segment"],
    )
    a.segment_id = segment["id"]
    await _save_flow(runtime, a, _tenant_flow(a, a.flow_id))
    await _save_flow(runtime, a, _overridden_bant(a))
    run = await _ok(client, "crm_start_flow", flow_id=a.flow_id, contact_id=a.contact_id, channel="chat")
    a.run_id = run["run_id"]
    await _ok(client, "crm_advance_flow", run_id=a.run_id, user_input=f"My note is {m}", idempotency_key=k["advance"])
    report = await _ok(client, "crm_import_leads", csv_text=a.csv_text)
    assert (report["created"], report["rejected"]) == (2, 0), report
    await _ok(client, "crm_merge_contacts", survivor_id=a.contact_id, duplicate_id=a.duplicate_id)
    imported = await _ok(client, "crm_search_contacts", query=f"imp1-{a.hex}")
    imported_360 = await _ok(client, "crm_get_customer_360", contact_id=imported["items"][0]["id"])
    a.import_lead_id = imported_360["leads"][0]["id"]

    # Business: a Pro subscription approved in A's own PayPal simulator, two billed cycles, a cancellation preview.
    simulator = runtime.paypal_simulator
    assert simulator is not None
    checkout = await _ok(client, "business_start_checkout", plan="pro", idempotency_key=k["checkout"])
    a.checkout_id = checkout["checkout_id"]
    a.approve_token = simulator.approval_token_for(checkout["approve_url"])
    await simulator.approve(a.approve_token)
    (a.provider_subscription_id,) = simulator.subscription_ids
    await simulator.bill_cycle(a.provider_subscription_id)
    await simulator.bill_cycle(a.provider_subscription_id)
    subscription = await _ok(client, "business_get_subscription")
    a.subscription_id = subscription["subscription_id"]
    preview = await _ok(client, "business_cancel_subscription")
    a.confirmation_token = preview["confirmation_token"]
    payments = await _ok(client, "business_list_payments", limit=100)
    assert len(payments["items"]) >= 2, payments
    a.secrets |= {a.confirmation_token, a.approve_token, a.provider_subscription_id}
    a.secrets |= {p["provider_payment_id"] for p in payments["items"]}
    a.secrets |= {p["id"] for p in payments["items"]}

    # A's cursors: every paginated listing, one item per page.
    cursor_calls: dict[str, tuple[str, dict[str, Any], str]] = {
        "contacts": ("crm_search_contacts", {"limit": 1}, "next_cursor"),
        "contacts_query": ("crm_search_contacts", {"query": a.head, "limit": 1}, "next_cursor"),
        "leads": ("crm_list_leads", {"limit": 1}, "next_cursor"),
        "members": ("crm_list_segment_members", {"segment_id": a.segment_id, "limit": 1}, "next_cursor"),
        "payments": ("business_list_payments", {"limit": 1}, "next_cursor"),
        "timeline": ("crm_get_customer_360", {"contact_id": a.contact_id, "timeline_limit": 1}, "timeline_next_cursor"),
    }
    for name, (tool, args, key) in cursor_calls.items():
        page = await _ok(client, tool, **args)
        assert page[key], f"{tool} {args} gave no {key}: A needs at least two items there"
        a.cursors[name] = page[key]


def _sha_of(file_uri: str | None) -> str:
    assert file_uri, "the asset has no file"
    sha = file_uri.rsplit("/", 1)[1]
    assert SHA256.fullmatch(sha), file_uri
    return sha


async def _plant_content(client: Client[Any], a: Planted) -> None:
    """A's brand kits (one with a logo), copy, an image and a video in every review state, and its own model key."""
    m, k = a.marker, a.keys
    # One agent plays author and reviewer here; the review rule itself has tests of its own.
    await _ok(client, "content_set_ai_provider", text_provider="local", allow_self_approval=True)
    kit = await _ok(
        client,
        "content_set_brand_kit",
        name=a.kit_name,
        voice=f"Voice of {m}: warm and direct.",
        colors=["#0A7E8C", "#FFFFFF"],
        logo_png_base64=a.logo_png_base64,
        fonts=[f"Font {m}"],
        banned_words=["cheap", f"word{a.hex}"],
        required_phrases=[f"Terms of {m} apply."],
        substantiated_claims=["the best CRM", f"#1 rated by {m}"],
        max_emoji=1,
        idempotency_key=k["kit"],
    )
    assert kit["is_default"], kit
    a.files["logo"] = _sha_of(kit["logo_uri"])
    await _ok(
        client,
        "content_set_brand_kit",
        name=a.alt_kit_name,
        voice=f"Alt voice of {m}.",
        required_phrases=[f"Alt terms of {m}."],
    )
    brief = f"Launch of {m}: our CRM saves 5 hours a week for sales teams. Book a demo."
    x_posts = await _ok(
        client,
        "content_generate_copy",
        brief=brief,
        channel="x",
        format="post",
        variants=2,
        brand_kit=a.kit_name,
        idempotency_key=k["copy"],
    )
    a.assets["x_approved"], a.assets["x_rejected"] = (v["asset_id"] for v in x_posts["variants"])
    texts = await _ok(
        client, "content_generate_copy", brief=brief, channel="sms", format="text", variants=2, brand_kit=a.alt_kit_name
    )
    a.assets["sms_draft"], a.assets["sms_review"] = (v["asset_id"] for v in texts["variants"])
    image = await _ok(
        client,
        "content_generate_image",
        brief=brief,
        placement="meta_feed_square",
        brand_kit=a.kit_name,
        idempotency_key=k["image"],
    )
    a.assets["image"], a.files["image"] = image["asset"]["id"], _sha_of(image["asset"]["file_uri"])
    # The shortest video the tools accept (meta_story_video states no minimum; the tool's floor is 1 s). From a
    # brief, 1 s crashes (the xfail case of canary_calls); a storyboard renders it (about 0.8 s).
    storyboard = [{"headline": f"Meet {m}", "seconds": 1}]
    video = await _ok(
        client,
        "content_generate_video",
        placement="meta_story_video",
        storyboard=storyboard,
        duration_seconds=1,
        idempotency_key=k["video"],
    )
    a.assets["video"], a.files["video"] = video["asset"]["id"], _sha_of(video["asset"]["file_uri"])
    # Review: approved and rejected (with canary notes), two in review, the rest drafts.
    await _ok(client, "content_submit_asset", asset_id=a.assets["x_approved"], idempotency_key=k["submit"])
    await _ok(
        client,
        "content_approve_asset",
        asset_id=a.assets["x_approved"],
        note=f"Approved by {m}",
        idempotency_key=k["approve"],
    )
    await _ok(client, "content_submit_asset", asset_id=a.assets["x_rejected"])
    await _ok(
        client,
        "content_reject_asset",
        asset_id=a.assets["x_rejected"],
        note=f"Rejected: {m}",
        idempotency_key=k["reject"],
    )
    for role in ("sms_review", "image"):
        await _ok(client, "content_submit_asset", asset_id=a.assets[role])
    for name, args in (("assets", {}), ("assets_copy", {"kind": "copy"})):
        page = await _ok(client, "content_list_assets", limit=1, **args)
        assert page["next_cursor"], f"content_list_assets {args} gave no next_cursor"
        a.cursors[name] = page["next_cursor"]
    # Last, so none of A's generations calls out: A writes with its own (unreachable) server and sealed key.
    await _ok(
        client,
        "content_set_ai_provider",
        text_provider="openai_compatible",
        text_model=f"model-{m}",
        base_url="http://127.0.0.1:9/v1",
        api_key=a.api_key,
        idempotency_key=k["ai"],
    )
    settings = await _ok(client, "content_get_ai_settings")
    assert settings["api_key_stored"] is True and a.api_key.rsplit("-", 1)[1] not in json.dumps(settings), settings
    a.secrets |= {a.api_key, *a.files.values()}


async def _plant_integrations(client: Client[Any], a: Planted) -> None:
    """A's HubSpot sandbox connection and two sync runs (their ids, A's portal and a runs cursor)."""
    connection = await _ok(client, "integrations_connect", platform="hubspot", idempotency_key=a.keys["connect"])
    a.hubspot_account = connection["account_id"]
    first = await _ok(client, "integrations_sync", platform="hubspot")
    second = await _ok(client, "integrations_sync", platform="hubspot", full=True)
    a.sync_run_id = first["id"]
    a.ids |= {connection["id"], first["id"], second["id"]}
    a.secrets.add(a.hubspot_account)
    canva = await _ok(client, "integrations_connect", platform="canva")
    a.ids.add(canva["id"])
    a.secrets.add(canva["account_id"])
    design = (await _ok(client, "integrations_list_designs", platform="canva"))["items"][0]["design_id"]
    imported = await _ok(client, "content_import_design", platform="canva", design_id=design)
    a.design_id = design
    a.ids.add(imported["asset"]["id"])
    google = await _ok(client, "integrations_connect", platform="google_ads")  # A's sandbox ad account
    a.ids.add(google["id"])
    a.secrets.add(google["account_id"])
    page = await _ok(client, "integrations_list_sync_runs", limit=1)
    assert page["next_cursor"], page
    a.cursors["sync_runs"] = page["next_cursor"]


async def _plant_campaigns(client: Client[Any], runtime: Runtime, a: Planted) -> None:
    """A's campaigns: one live on A's Google Ads sandbox (its objects, a confirmation token, a pause and a budget
    change), one still planned (so the listing has a cursor), and A's spend caps."""
    m, k = a.marker, a.keys
    goal = {
        "objective": "leads",
        "markets": [{"country": "ES", "languages": ["es"]}],
        "start_date": f"{datetime.now(UTC).year + 1}-03-01",
        "end_date": f"{datetime.now(UTC).year + 1}-03-31",
        "landing_url": f"https://{a.domain}/offer?ref={a.hex}",
        "budget": 4000,
        "currency": "EUR",
        "channels": ["google_search"],
    }
    planned = await _ok(
        client,
        "campaigns_plan_campaign",
        name=f"Campaign {m}",
        product=f"Product {m}",
        idempotency_key=k["plan"],
        **goal,
    )
    second = await _ok(client, "campaigns_plan_campaign", name=f"Second {m}", product=f"Other {m}", **goal)
    a.campaign_id = planned["id"]
    # A's own model provider points nowhere: the campaign's copy is written locally, then A's provider is restored.
    await _ok(client, "content_set_ai_provider", text_provider="local", allow_self_approval=True)
    copy = await _ok(
        client, "content_generate_copy", brief=f"Invoices in minutes with {m}", channel="google_ads", format="rsa"
    )
    asset_id = copy["variants"][0]["asset_id"]
    await _ok(client, "content_submit_asset", asset_id=asset_id)
    await _ok(client, "content_approve_asset", asset_id=asset_id, note=f"Fine for {m}")
    await _ok(
        client,
        "content_set_ai_provider",
        text_provider="openai_compatible",
        text_model=f"model-{m}",
        base_url="http://127.0.0.1:9/v1",
        api_key=a.api_key,
    )
    await _ok(
        client,
        "campaigns_update_campaign",
        campaign_id=a.campaign_id,
        channels=[{"channel": "google_search", "creative_ids": [asset_id]}],
        reason=f"Creatives of {m}",
        idempotency_key=k["campaign_update"],
    )
    submitted = await _ok(client, "campaigns_submit_for_review", campaign_id=a.campaign_id, note=f"Please, {m}")
    if submitted["campaign"]["status"] == "in_review":
        author = runtime.settings
        runtime.settings = author.model_copy(update={"actor": "approver-a"})  # approval is another person's
        try:
            await _ok(
                client, "campaigns_approve_campaign", campaign_id=a.campaign_id, decision="approve", note=f"Ok {m}"
            )
        finally:
            runtime.settings = author
    preview = await _ok(client, "campaigns_preview_activation", campaign_id=a.campaign_id)
    a.campaign_token = preview["confirmation_token"]
    await _ok(
        client,
        "campaigns_activate_campaign",
        campaign_id=a.campaign_id,
        confirmation_token=a.campaign_token,
        idempotency_key=k["activate"],
    )
    paused = await _ok(client, "campaigns_pause_campaign", campaign_id=a.campaign_id, reason=f"Check {m}")
    a.change_id = paused["change"]["id"]
    await _ok(client, "campaigns_resume_campaign", campaign_id=a.campaign_id, reason=f"Go {m}")
    budget = await _ok(
        client,
        "campaigns_update_budget",
        campaign_id=a.campaign_id,
        daily_budget=70,
        reason=f"More for {m}",
        idempotency_key=k["budget"],
    )
    await _ok(client, "campaigns_set_spend_caps", currency="EUR", per_day=5000, idempotency_key=k["caps"])
    shown = await _ok(client, "campaigns_get_campaign", campaign_id=a.campaign_id)
    assert shown["objects"] and all(o["platform_id"] for o in shown["objects"]), shown["objects"]
    a.ids |= {a.campaign_id, second["id"], a.change_id, budget["change"]["id"]}
    a.secrets |= {a.campaign_token, *(o["platform_id"] for o in shown["objects"])}
    page = await _ok(client, "campaigns_list_campaigns", limit=1)
    assert page["next_cursor"], page
    a.cursors["campaigns"] = page["next_cursor"]
    # Analytics: two experiments on A's campaign (one shown to A's lead), so B has ids and a cursor to aim at.
    experiment = {
        "subject": "email",
        "variants": [{"key": "control", "description": f"Plain {m}"}, {"key": "bold", "description": f"Bold {m}"}],
        "primary_metric": "customer",
        "minimum_detectable_effect": 0.2,
        "baseline": 0.05,
        "units_per_day": 100,
        "campaign_id": a.campaign_id,
    }
    made = await _ok(client, "campaigns_create_experiment", name=f"Experiment {m}", **experiment)
    await _ok(client, "campaigns_create_experiment", name=f"Other experiment {m}", **experiment)
    a.experiment_id = made["id"]
    await _ok(client, "campaigns_assign_variant", experiment_id=a.experiment_id, contact_id=a.lead_contact_id)
    a.ids.add(a.experiment_id)
    listed = await _ok(client, "campaigns_list_experiments", limit=1)
    assert listed["next_cursor"], listed
    a.cursors["experiments"] = listed["next_cursor"]


async def _baseline_b(client: Client[Any], runtime: Runtime, b: BOwn) -> None:
    org = await _ok(client, "crm_create_organization", name="B Org", domain="b-tenant.example")
    b.org_id = org["id"]
    contact = await _ok(
        client,
        "crm_create_contact",
        first_name="Bob",
        last_name="Builder",
        email="bob@b-tenant.example",
        phone=B_PHONE,
        organization_id=b.org_id,
        tags=["b-tag"],
    )
    b.contact_id = contact["id"]
    lead = await _ok(client, "crm_capture_lead", source_channel="web_form", email="bob@b-tenant.example")
    b.lead_id = lead["lead"]["id"]
    await _ok(
        client,
        "crm_log_interaction",
        contact_id=b.contact_id,
        channel="email",
        direction="outbound",
        summary="B's own note",
    )
    b.contacts = 1
    # B's own Pro subscription, so a confirmation token really gets checked when B presents A's.
    simulator = runtime.paypal_simulator
    assert simulator is not None
    checkout = await _ok(client, "business_start_checkout", plan="pro")
    await simulator.approve(simulator.approval_token_for(checkout["approve_url"]))
    b.subscription_id = (await _ok(client, "business_get_subscription"))["subscription_id"]
    await _ok(client, "content_set_ai_provider", text_provider="local", allow_self_approval=True)
    draft = await _ok(
        client,
        "content_generate_copy",
        brief="B's own newsletter: save 10% this week.",
        channel="email",
        format="message",
        variants=1,
    )
    b.asset_id = draft["variants"][0]["asset_id"]


# What A reads to see whether B changed anything (compared as JSON before and after B's round).
def _a_views(a: Planted) -> dict[str, tuple[str, dict[str, Any]]]:
    return {
        "360": ("crm_get_customer_360", {"contact_id": a.contact_id, "timeline_limit": 50}),
        "360_lead_person": ("crm_get_customer_360", {"contact_id": a.lead_contact_id}),
        "duplicate": ("crm_get_contact", {"contact_id": a.duplicate_id}),
        "lead": ("crm_get_lead", {"lead_id": a.lead_id}),
        "import_lead": ("crm_get_lead", {"lead_id": a.import_lead_id}),
        "contacts": ("crm_search_contacts", {"limit": 100}),
        "leads": ("crm_list_leads", {"limit": 100}),
        "segments": ("crm_list_segments", {}),
        "members": ("crm_list_segment_members", {"segment_id": a.segment_id, "limit": 100}),
        "rules": ("crm_get_scoring_rules", {}),
        "flows": ("crm_list_flows", {}),
        "subscription": ("business_get_subscription", {}),
        "payments": ("business_list_payments", {"limit": 100}),
        "assets": ("content_list_assets", {"limit": 100}),
        **{f"asset_{role}": ("content_get_asset", {"asset_id": asset_id}) for role, asset_id in a.assets.items()},
        "brand_kit": ("content_get_brand_kit", {}),
        **{f"brand_kit_{name}": ("content_get_brand_kit", {"name": name}) for name in sorted(a.kit_names)},
        "ai_settings": ("content_get_ai_settings", {}),
        "connectors": ("integrations_list_connectors", {}),
        "sync_runs": ("integrations_list_sync_runs", {"limit": 100}),
        "sync_run": ("integrations_get_sync_run", {"run_id": a.sync_run_id}),
        "campaigns": ("campaigns_list_campaigns", {"limit": 100}),
        "campaign": ("campaigns_get_campaign", {"campaign_id": a.campaign_id}),
        "spend_caps": ("campaigns_get_spend_caps", {}),
    }


async def _settle(*runtimes: Runtime) -> None:
    """Wait for the webhooks the simulators still owe (PayPal sends API-triggered ones after answering)."""
    for runtime in runtimes:
        assert runtime.paypal_simulator is not None
        await runtime.paypal_simulator.drain()


async def _snapshot(client: Client[Any], a: Planted) -> dict[str, Any]:
    views: dict[str, Any] = {name: await _ok(client, tool, **args) for name, (tool, args) in _a_views(a).items()}
    views["flow_definition"] = (await client.read_resource_mcp(f"crm://crm/flows/{a.flow_id}")).model_dump(mode="json")
    for role, sha in a.files.items():  # the stored bytes, by digest (not inlined: base64 of whole PNG/MP4 files)
        read = await client.read_resource_mcp(f"content://content/files/{sha}")
        views[f"file_{role}"] = hashlib.sha256(read.model_dump_json().encode()).hexdigest()
    return views


def _tenant_tables(connection: psycopg.Connection[Any]) -> list[str]:
    rows = connection.execute(
        "SELECT c.table_name FROM information_schema.columns c JOIN information_schema.tables t "
        "ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
        "WHERE c.table_schema = 'public' AND c.column_name = 'tenant_id' AND t.table_type = 'BASE TABLE' "
        "ORDER BY c.table_name"
    ).fetchall()
    return [str(row[0]) for row in rows]


def _rows_of(database: str, tenant: str) -> dict[str, int]:
    """Rows per tenant table that belong to ``tenant`` (as the owner, outside RLS)."""
    with owner_connect(database) as connection:
        counts: dict[str, int] = {}
        for table in _tenant_tables(connection):
            query = sql.SQL("SELECT count(*) FROM {} WHERE tenant_id = %s").format(sql.Identifier(table))
            row = connection.execute(query, (tenant,)).fetchone()
            assert row is not None
            counts[table] = int(row[0])
        return counts


@pytest.fixture(scope="module")
def quiet_fastmcp() -> Iterator[None]:
    """B's refused calls (and a crash, the middleware's ``tool_failed``) would each be logged with a slow rich
    traceback (over a second for one crash)."""
    logger = logging.getLogger("fastmcp.server.server")
    previous, config = logger.level, structlog.get_config()
    logger.setLevel(logging.CRITICAL)
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.CRITICAL))
    yield
    structlog.configure(**config)
    logger.setLevel(previous)


@pytest_asyncio.fixture(scope="module")
async def world(
    pg_database: str, tmp_path_factory: pytest.TempPathFactory, quiet_fastmcp: None
) -> AsyncIterator[World]:
    """A plants, B runs every case, A re-reads; the whole round happens here, tests then judge its record."""
    run = uuid.uuid4().hex[:12]
    a = _planted(f"canary-a-{run}")
    b = BOwn(tenant=f"canary-b-{run}")
    runtime_a = Runtime(_settings(pg_database, tmp_path_factory.mktemp("canary-a"), a.tenant, "agent-a"))
    runtime_b = Runtime(_settings(pg_database, tmp_path_factory.mktemp("canary-b"), b.tenant, "agent-b"))
    world = World(a=a, b=b)
    async with Client(build_gateway(runtime_a)) as client_a, Client(build_gateway(runtime_b)) as client_b:
        await _plant(client_a, runtime_a, a)
        await _plant_content(client_a, a)
        await _plant_integrations(client_a, a)
        await _plant_campaigns(client_a, runtime_a, a)
        await _baseline_b(client_b, runtime_b, b)
        await _settle(runtime_a, runtime_b)
        world.a_before = await _snapshot(client_a, a)
        a.ids |= set(ID_PATTERN.findall(json.dumps(world.a_before)))
        a.ids |= {
            a.org_id,
            a.contact_id,
            a.duplicate_id,
            a.lead_contact_id,
            a.lead_id,
            a.import_lead_id,
            a.segment_id,
            a.run_id,
            a.subscription_id,
            a.checkout_id,
            a.flow_id,
            *a.assets.values(),
        }
        world.a_rows_before = _rows_of(pg_database, a.tenant)

        tools = await client_b.list_tools()
        world.tools = {t.name for t in tools}
        world.read_only_tools = {t.name for t in tools if t.annotations and t.annotations.read_only_hint}
        world.resources = {str(r.uri) for r in await client_b.list_resources()}
        world.templates = {t.uri_template for t in await client_b.list_resource_templates()}
        world.prompts = {p.name for p in await client_b.list_prompts()}

        for phase in (1, 2):
            for case in (c for c in CASES if c.phase == phase):
                args = case.args(world)
                world.sent[case.id] = args
                world.outcomes[case.id] = await _call(client_b, case, args)
                world.calls += 1
                swap: dict[str, str] = {}
                twin = _twin(args, a, swap)
                if swap:  # the same call with made-up ids: B must not be able to tell A's ids from nonexistent ones
                    world.twins[case.id] = (await _call(client_b, case, twin), swap)
                    world.calls += 1

        await _settle(runtime_a, runtime_b)
        world.a_after = await _snapshot(client_a, a)
        world.a_rows_after = _rows_of(pg_database, a.tenant)
        for case in CASES:
            if case.reveals:
                world.controls[case.id] = await _call(client_a, case, world.sent[case.id])
                world.calls += 1
    yield world


# ---------------------------------------------------------------------------------------------------- tests


def test_every_tool_resource_template_and_prompt_has_a_canary_case(world: World) -> None:
    covered: dict[Kind, set[str]] = {"tool": set(), "resource": set(), "template": set(), "prompt": set()}
    for case in CASES:
        covered[case.kind].add(case.name)
    assert world.tools == covered["tool"], "tools without a canary case (or cases for tools B does not list)"
    assert world.resources == covered["resource"], "static resources without a canary case"
    assert world.templates == covered["template"], "resource templates without a canary case"
    assert world.prompts == covered["prompt"], "prompts without a canary case"
    # The positive control reruns a probe as A; it must never change A's data.
    mutating_controls = [c.id for c in CASES if c.reveals and c.kind == "tool" and c.name not in world.read_only_tools]
    assert not mutating_controls, f"controls must be read-only calls: {mutating_controls}"


@pytest.mark.parametrize("case", list(_params()))
def test_tenant_b_learns_nothing_of_tenant_a(world: World, case: Case) -> None:
    outcome = world.outcomes[case.id]
    found = problems(case, outcome, world)
    assert not found, f"{case.id} sent {json.dumps(world.sent[case.id])[:600]}:\n" + "\n".join(found)
    if case.check is not None:
        case.check(world, outcome)
    if case.id in world.twins:  # no existence oracle: A's ids answer like made-up ids that exist nowhere
        twin, swap = world.twins[case.id]
        assert outcome.is_error == twin.is_error, f"A's ids: {outcome.message}\nmade-up ids: {twin.message}"
        if outcome.is_error or case.kind != "tool" or case.name in world.read_only_tools:
            assert _masked(outcome.message, swap) == _masked(twin.message, swap.values()), (
                f"B can tell A's ids from made-up ones:\n{outcome.message}\n{twin.message}"
            )


@pytest.mark.parametrize("case", [c for c in CASES if c.reveals], ids=lambda c: c.id)
def test_the_same_probe_made_by_tenant_a_finds_a_data(world: World, case: Case) -> None:
    """Positive control: B's probe aims at real data (A, making the same call, is shown its canary or ids)."""
    control = world.controls[case.id]
    assert not control.is_error, f"A's own call failed: {control.message}"
    visible = _without_echo(control.text, world.sent[case.id], world.a)
    shows_ids = any(i in control.text for i in world.a.forbidden_ids)
    assert world.a.tail.lower() in visible or shows_ids, f"A's own call shows none of A's data: {control.text[:400]}"
    # The detector works: had B been given A's answer, the leak check would have failed.
    assert problems(case, control, world), "the leak check would not notice A's data in B's answer"


def test_tenant_a_data_is_unchanged_by_tenant_b(world: World) -> None:
    changed = sorted(name for name in world.a_before if world.a_before[name] != world.a_after[name])
    assert not changed, f"A's views changed during B's round: {changed}"
    assert world.a_after["subscription"]["status"] != "canceled"
    assert world.a_rows_before == world.a_rows_after, "rows of A's tenant were added or removed during B's round"


def test_rls_alone_hides_tenant_a_rows_from_tenant_b(world: World, pg_database: str) -> None:
    """As promptsales_app with B's tenant set, no row of A exists; with A's tenant set, A's rows are there."""
    a, b = world.a, world.b
    with psycopg.connect(pg_url(pg_database, driver="postgresql")) as connection:
        tables = _tenant_tables(connection)
        assert tables, "no tenant tables found"
        flags = connection.execute(
            "SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class "
            "WHERE relnamespace = 'public'::regnamespace AND relname = ANY(%s)",
            (tables,),
        ).fetchall()
        unprotected = sorted(name for name, enabled, forced in flags if not (enabled and forced))
        assert not unprotected, f"tenant tables without ENABLE + FORCE row-level security: {unprotected}"
        role = connection.execute(
            "SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = %s", (APP_ROLE,)
        ).fetchone()
        assert role == (False, False), f"{APP_ROLE} must neither be superuser nor bypass RLS: {role}"

        connection.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(APP_ROLE)))

        def visible(tenant: str | None) -> dict[str, tuple[int, int]]:
            """Per table: rows of A, and rows of any other tenant than ``tenant``, visible with ``tenant`` set."""
            connection.execute("SELECT set_config('app.tenant_id', %s, false)", (tenant or "",))
            seen: dict[str, tuple[int, int]] = {}
            for table in tables:
                query = sql.SQL(
                    "SELECT count(*) FILTER (WHERE tenant_id = %s), "
                    "count(*) FILTER (WHERE tenant_id IS DISTINCT FROM %s) FROM {}"
                ).format(sql.Identifier(table))
                row = connection.execute(query, (a.tenant, tenant or "")).fetchone()
                assert row is not None
                seen[table] = (int(row[0]), int(row[1]))
            return seen

        as_b = visible(b.tenant)
        as_nobody = visible(None)
        as_a = visible(a.tenant)
        connection.rollback()

    assert {t: n for t, (n, _) in as_b.items() if n} == {}, "A's rows visible to the app role as B"
    assert {t: n for t, (_, n) in as_b.items() if n} == {}, "other tenants' rows visible to the app role as B"
    assert {t: n for t, (n, _) in as_nobody.items() if n} == {}, "A's rows visible without a tenant set"
    assert {t: n for t, (_, n) in as_a.items() if n} == {}, "other tenants' rows visible to the app role as A"
    written = {t for t, n in world.a_rows_before.items() if n}
    expected = {
        "crm_organizations",
        "crm_contacts",
        "crm_contact_tags",
        "crm_consent_events",
        "crm_leads",
        "crm_lead_touches",
        "crm_interactions",
        "crm_segments",
        "crm_scoring_rules",
        "crm_flow_runs",
        "crm_flow_definitions",
        "business_subscriptions",
        "business_checkouts",
        "business_payments",
        "audit_log",
        "idempotency_records",
        "outbox_events",
        "content_brand_kits",
        "content_assets",
        "content_asset_versions",
        "content_blobs",
        "content_ai_settings",
        "tenant_credentials",
    }
    assert expected <= written, f"A was expected to write rows in {sorted(expected - written)}"
    assert {t: n for t, (n, _) in as_a.items() if t in written and n == 0} == {}, "A cannot see its own rows as A"
    assert all(as_a[t][0] == world.a_rows_after[t] for t in written), "the app role as A sees fewer rows than exist"
