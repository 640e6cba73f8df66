"""Email campaigns racing on PostgreSQL (row-level security forced, READ COMMITTED): 20 identical create-and-send
calls are one Mailchimp campaign and one send; 20 agents sending one draft with their own keys send it once, all see
it sent, and one send is audited."""

import asyncio

import pytest

from promptsales.domain_core.content.commands import DecideAsset, GenerateCopy
from promptsales.domain_core.integrations.commands import Connect, CreateEmailCampaign, SendEmailCampaign
from promptsales.domain_core.integrations.mailchimp.simulator import MailchimpSimulator
from promptsales.domain_core.shared.caller import Caller
from promptsales.servers.runtime import Runtime
from tests.integration.conftest import owner_count

pytestmark = pytest.mark.postgres


@pytest.fixture
def runtime(pg_runtime: Runtime) -> Runtime:
    return pg_runtime


def posts(simulator: MailchimpSimulator, suffix: str) -> int:
    return sum(1 for method, path in simulator.requests if method == "POST" and path.endswith(suffix))


async def test_racing_creates_and_sends_reach_mailchimp_once(runtime: Runtime, pg_database: str) -> None:
    caller, tenant = runtime.caller(None), runtime.settings.tenant
    reviewer = Caller(tenant_id=tenant, actor_id="reviewer")
    connection = await runtime.integrations.connect(caller, Connect(platform="mailchimp"))
    account = str(connection.account_id)
    simulator = runtime.integrations.sandbox.simulator("mailchimp")
    assert isinstance(simulator, MailchimpSimulator)
    list_id = simulator.default_audience(account)
    for i in range(30):
        simulator.seed_member(account, list_id, f"reader{i:02d}@example.net")
    copy = await runtime.content.generate_copy(
        caller,
        GenerateCopy(
            brief="PromptSales Pro: launch campaigns in minutes", channel="email", format="message", variants=1
        ),
    )
    asset = str(copy.variants[0].asset_id)
    await runtime.content.decide_asset(caller, DecideAsset(asset_id=asset, decision="submit"))
    await runtime.content.decide_asset(reviewer, DecideAsset(asset_id=asset, decision="approve"))

    create = CreateEmailCampaign(asset_id=asset, reply_to="news@acme.example", send=True)
    results = await asyncio.gather(
        *(runtime.integrations.create_email_campaign(caller, create, idempotency_key="launch") for _ in range(20))
    )
    assert len({r.model_dump_json() for r in results}) == 1 and results[0].status == "sent"
    assert (posts(simulator, "/campaigns"), posts(simulator, "/actions/send")) == (1, 1)

    draft = await runtime.integrations.create_email_campaign(
        caller, create.model_copy(update={"send": False}), idempotency_key="draft"
    )
    sent = await asyncio.gather(
        *(
            runtime.integrations.send_email_campaign(
                caller, SendEmailCampaign(campaign_id=draft.id), idempotency_key=f"a{i}"
            )
            for i in range(20)
        )
    )
    assert {s.status for s in sent} == {"sent"} and {s.id for s in sent} == {draft.id}
    assert simulator.account(account).campaigns[str(draft.campaign_id)]["emails_sent"] == 30
    report = await runtime.integrations.email_campaign_report(caller, campaign_id=draft.id)
    assert report.emails_sent == 30

    links = "SELECT count(*) FROM integrations_external_links WHERE tenant_id = %s AND object_type = 'email_campaign'"
    assert owner_count(pg_database, tenant, links) == 2
    audits = "SELECT count(*) FROM audit_log WHERE tenant_id = %s AND action = '{}'"
    assert owner_count(pg_database, tenant, audits.format("integrations.create_email_campaign")) == 2
    assert owner_count(pg_database, tenant, audits.format("integrations.send_email_campaign")) == 2
