"""Plans in force: tools/list and calls per plan, check_entitlement, quotas counted in the tool's transaction."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from fastmcp import Client

from promptsales.domain_core.business.model.plans import load_catalogue
from promptsales.domain_core.shared.errors import Unavailable
from promptsales.servers.gateway import build_gateway
from promptsales.servers.runtime import Runtime
from tests.servers.conftest import Crm

CATALOGUE = load_catalogue()


def plans_file(folder: Path, **quotas_by_plan: dict[str, Any]) -> Path:
    """A deployment override of the catalogue (e.g. free={"contacts": 3})."""
    path = folder / f"plans-{len(list(folder.glob('plans-*')))}.json"
    path.write_text(json.dumps({"plans": [{"id": plan, "quotas": q} for plan, q in quotas_by_plan.items()]}))
    return path


@pytest_asyncio.fixture
async def on_plan(make_runtime: Callable[..., Runtime]) -> Callable[..., Any]:
    """Open a gateway client for a tenant on the given default plan (settings overrides as keywords)."""
    clients: list[Client] = []

    async def open_client(plan: str, **overrides: Any) -> tuple[Crm, Crm, Runtime]:
        runtime = make_runtime(default_plan=plan, **overrides)
        client = Client(build_gateway(runtime))
        await client.__aenter__()
        clients.append(client)
        return Crm(client), Crm(client, prefix="business_"), runtime

    yield open_client
    for client in reversed(clients):
        await client.__aexit__(None, None, None)


async def test_list_plans_and_the_plans_resource_show_the_catalogue(client, crm) -> None:
    business = Crm(client, prefix="business_")
    plans = (await business.ok("list_plans"))["plans"]
    assert [p["id"] for p in plans] == ["free", "starter", "pro", "enterprise"]
    pro = plans[2]
    assert pro["price"] == "99.00" and pro["trial_days"] == 14 and "tiktok" in pro["channels"]
    assert plans[3]["quotas"]["contacts"] is None
    resource = json.loads((await client.read_resource("business://business/plans"))[0].text)
    assert resource["plans"] == plans


async def test_a_tenant_without_subscription_is_on_the_default_plan(on_plan) -> None:
    _, business, _ = await on_plan("free")
    view = await business.ok("get_subscription")
    assert (view["plan"], view["status"], view["access"], view["subscription_id"]) == ("free", "none", "full", None)
    assert view["current_period_start"].endswith("-01T00:00:00Z")  # calendar month


@pytest.mark.parametrize("plan_id", CATALOGUE.ids)
async def test_each_plan_lists_and_allows_exactly_its_tools(on_plan, plan_id: str) -> None:
    crm, business, runtime = await on_plan(plan_id)
    plan = CATALOGUE.get(plan_id)
    listed = {tool.name for tool in await crm.client.list_tools()}
    served = set(runtime.tool_infos)
    expected = {name for name in served if plan.includes_tool(runtime.tool_infos[name].context, name)}
    assert listed == expected
    assert plan.includes_context("campaigns") == any(name.startswith("campaigns_") for name in listed)
    for excluded in sorted(served - listed):
        refused = await crm.client.call_tool_mcp(excluded, {"csv_text": "email\na@b.co\n"})
        assert refused.is_error
        text = refused.content[0].text
        assert f"not part of the {plan.name} plan" in text, text
        lifter = next(
            p for p in CATALOGUE.above(plan) if p.includes_tool(runtime.tool_infos[excluded].context, excluded)
        )
        assert f"The {lifter.name} plan includes it" in text
        check = await business.ok("check_entitlement", feature=excluded)
        assert (check["allowed"], check["upgrade_plan"]) == (False, lifter.id)
    assert not (await crm.raw("list_flows")).is_error
    check = await business.ok("check_entitlement", feature="crm_capture_lead")
    assert check["allowed"] is True and check["plan"] == plan_id


async def test_check_entitlement_answers_for_channels_models_connectors_and_quotas(on_plan) -> None:
    crm, business, _ = await on_plan("free")
    await crm.ok("create_contact", email="ann@example.com")
    cases = {
        "channel:email": (True, None),
        "channel:tiktok": (False, "pro"),
        "analytics:last_touch": (True, None),
        "analytics:data_driven": (False, "enterprise"),
        "connectors:live": (False, "starter"),
        "context:campaigns": (False, "starter"),
        "context:crm": (True, None),
    }
    for feature, (allowed, lifter) in cases.items():
        check = await business.ok("check_entitlement", feature=feature)
        assert (check["allowed"], check["upgrade_plan"]) == (allowed, lifter), feature
    contacts = await business.ok("check_entitlement", feature="contacts")
    assert contacts["quota"] == {"quota": "contacts", "limit": 250, "used": 1, "remaining": 249, "resets_at": None}
    assert contacts["upgrade_plan"] == "starter" and "1 of 250" in contacts["reason"]
    generations = await business.ok("check_entitlement", feature="quota:content_generations")
    assert generations["quota"]["resets_at"] is not None
    rate = await business.ok("check_entitlement", feature="tool_calls_per_minute")
    assert rate["allowed"] and "60" in rate["reason"]
    await business.rejects(
        "check_entitlement",
        [({"feature": "colour:red"}, "feature"), ({"feature": "crm_fly_to_the_moon"}, "feature")],
    )


async def test_a_channel_entitlement_covers_activation_while_copy_for_the_channel_is_a_content_feature(
    on_plan,
) -> None:
    # Free does not include Google Ads: activation and sending there need Starter, yet copy for it is written.
    _, business, _ = await on_plan("free")
    check = await business.ok("check_entitlement", feature="channel:google_ads")
    assert (check["allowed"], check["plan"], check["upgrade_plan"]) == (False, "free", "starter")
    reason = check["reason"]
    assert "Activating campaigns and sending on google_ads need the Starter plan (business_start_checkout)" in reason
    assert "Writing copy and creatives for google_ads is a content feature, available on the Free plan" in reason
    assert "content_generate_copy, content_generate_image." in reason  # video is not part of Free
    copy = await Crm(business.client, prefix="content_").ok(
        "generate_copy", brief="Spring sale on CRM seats, 20% off for teams", channel="google_ads", format="rsa"
    )
    assert copy["variants"], copy  # the answer and the behaviour agree

    _, business, _ = await on_plan("pro")
    check = await business.ok("check_entitlement", feature="channel:google_ads")
    assert (check["allowed"], check["plan"], check["upgrade_plan"]) == (True, "pro", None)
    assert check["reason"].startswith("Activating campaigns and sending on google_ads are included in the Pro plan.")
    assert "content_generate_copy, content_generate_image, content_generate_video." in check["reason"]

    description = next(t for t in await business.client.list_tools() if t.name == "business_check_entitlement")
    feature = description.input_schema["properties"]["feature"]["description"]
    assert "channel:<name> (activating campaigns and sending on it; copy and creatives for any channel" in feature


async def test_unknown_channel_model_and_context_names_are_refused_naming_the_known_ones(on_plan) -> None:
    _, business, _ = await on_plan("free")
    text = await business.error("check_entitlement", feature="channel:google_adz")
    assert "Unknown channel 'google_adz'" in text and "google_ads" in text and "feature" in text
    assert "Known analytics names" in await business.error("check_entitlement", feature="analytics:magic")
    assert "Known context names" in await business.error("check_entitlement", feature="context:billing")


async def test_the_contacts_quota_refuses_the_one_too_many_and_writes_nothing(on_plan, tmp_path: Path) -> None:
    crm, business, _ = await on_plan("free", plans_file=plans_file(tmp_path, free={"contacts": 3}))
    for n in range(3):
        await crm.ok("create_contact", email=f"p{n}@example.com")
    text = await crm.error("create_contact", email="p3@example.com")
    assert "Quota 'contacts' of the Free plan is used up (3 of 3 used); nothing was changed." in text
    assert "removing or merging records frees room" in text
    assert "The Starter plan raises it to 5000: business_start_checkout(plan='starter')" in text
    # capture_lead of a new person is refused the same way; of a known person it adds a touch, no contact.
    assert "Quota 'contacts'" in await crm.error("capture_lead", source_channel="web_form", email="new@example.com")
    assert (await crm.lead("p1@example.com"))["created"] is False
    assert len((await crm.ok("search_contacts"))["items"]) == 3
    usage = {q["quota"]: q for q in (await business.ok("get_usage"))["quotas"]}
    assert usage["contacts"]["used"] == 3 and usage["contacts"]["remaining"] == 0


async def test_failed_and_replayed_calls_consume_no_quota_and_merges_give_it_back(on_plan, tmp_path: Path) -> None:
    crm, business, _ = await on_plan("free", plans_file=plans_file(tmp_path, free={"contacts": 2}))

    async def used() -> int:
        quotas = (await business.ok("get_usage"))["quotas"]
        return next(q["used"] for q in quotas if q["quota"] == "contacts")

    await crm.error("create_contact", email="a@example.com", organization_id="org_01NOPE00000000000000000000")
    assert await used() == 0  # the contact row was written, then rolled back with the usage
    first = await crm.ok("create_contact", email="a@example.com", idempotency_key="once")
    assert await crm.ok("create_contact", email="a@example.com", idempotency_key="once") == first
    assert await used() == 1
    second = await crm.ok("create_contact", email="b@example.com")
    assert await used() == 2
    await crm.ok("merge_contacts", survivor_id=first["id"], duplicate_id=second["id"])
    assert await used() == 1
    await crm.ok("create_contact", email="c@example.com")


async def test_a_seat_is_taken_by_each_actor_that_changes_something(
    make_runtime: Callable[..., Runtime], tmp_path: Path
) -> None:
    first = make_runtime(default_plan="free", plans_file=plans_file(tmp_path, free={"seats": 1}), actor="agent-1")
    # A second process for the same tenant and database, acting as another agent.
    second = Runtime(first.settings.model_copy(update={"actor": "agent-2"}))
    async with Client(build_gateway(first)) as one, Client(build_gateway(second)) as two:
        a, b = Crm(one), Crm(two)
        await a.ok("create_organization", name="Acme")
        await a.ok("create_organization", name="Acme 2")  # the same actor keeps its seat
        text = await b.error("create_organization", name="Globex")
        assert "Quota 'seats' of the Free plan is used up (1 of 1 used)" in text and "It resets at" in text
        assert not (await b.raw("search_contacts")).is_error  # reading takes no seat
        seats = next(q for q in (await Crm(two, "business_").ok("get_usage"))["quotas"] if q["quota"] == "seats")
        assert seats["used"] == 1


async def test_the_plan_sets_the_tool_call_rate(tmp_path: Path, migrated_template: Path) -> None:
    from tests.servers.conftest import database_settings

    settings = database_settings(
        tmp_path,
        migrated_template,
        default_plan="free",
        plans_file=plans_file(tmp_path, free={"tool_calls_per_minute": 2}),
        rate_limits_enabled=True,
    )
    async with Client(build_gateway(Runtime(settings))) as client:
        crm = Crm(client)
        await crm.ok("search_contacts")
        await crm.ok("search_contacts")
        text = await crm.error("search_contacts")
        assert "Rate limit for crm reads" in text and "2 per minute" in text


async def test_tools_fail_closed_when_the_plan_cannot_be_read(make_runtime, monkeypatch) -> None:
    runtime = make_runtime(default_plan="free")
    async with Client(build_gateway(runtime)) as client:
        crm = Crm(client)

        async def unreadable(caller: Any) -> Any:
            raise Unavailable("The database could not complete the request; nothing was changed.")

        monkeypatch.setattr(runtime.business, "standing", unreadable)
        assert "could not complete the request" in await crm.error("create_contact", email="ann@example.com")
        assert "could not complete the request" in await crm.error("search_contacts")
        with pytest.raises(Exception, match="could not complete the request"):
            await client.list_tools()
        monkeypatch.undo()
        assert (await crm.ok("search_contacts"))["items"] == []  # the refused write never ran
