"""The Salesforce client against the in-process Salesforce simulator (httpx.ASGITransport into ConnectorHttp).

Time is faked (tests.integration.connector_fakes): retries sleep on a fake clock, so no test waits.
"""

from collections.abc import Mapping
from datetime import datetime, timedelta

import httpx
import pytest

from promptsales.domain_core.integrations.http import RequestPolicy
from promptsales.domain_core.integrations.model.connectors import get_connector
from promptsales.domain_core.integrations.model.errors import (
    AuthExpired,
    ConnectorError,
    PlatformDown,
    PlatformValidationError,
    RateLimited,
)
from promptsales.domain_core.integrations.salesforce.client import (
    API_VERSION,
    CHANGE_ORDER,
    SalesforceClient,
    soql_datetime,
    soql_string,
)
from promptsales.domain_core.integrations.salesforce.simulator import SalesforceSimulator
from tests.integration.connector_fakes import T0, FakeTime

TOKEN = "00DRO0000000001!AQ4AQKx7.sfdc-session-token-aaaa"
OTHER_TOKEN = "00DRO0000000002!AQ4AQKx7.sfdc-session-token-bbbb"
ORG, OTHER_ORG = "00DRO0000000001", "00DRO0000000002"
INSTANCE = "https://acme.my.salesforce.com"


@pytest.fixture
def sim(time_: FakeTime) -> SalesforceSimulator:
    return SalesforceSimulator(tokens={TOKEN: ORG, OTHER_TOKEN: OTHER_ORG}, clock=time_.now, batch_size=3)


def client(sim: SalesforceSimulator, time_: FakeTime, *, token: str = TOKEN, attempts: int = 4) -> SalesforceClient:
    async def auth() -> Mapping[str, str]:
        return {"Authorization": f"Bearer {token}"}

    return SalesforceClient.for_instance(
        INSTANCE,
        tenant_id="tenant-a",
        auth=auth,
        policy=RequestPolicy(max_attempts=attempts, deadline_s=60.0),
        transport=httpx.ASGITransport(app=sim.app),
        **time_.policy(),
    )


def seed_contacts(sim: SalesforceSimulator, count: int, *, org: str = ORG) -> list[str]:
    return [
        sim.seed(org, "Contact", {"Email": f"c{i}@example.com", "LastName": f"C{i}"}, at=T0 + timedelta(hours=i))
        for i in range(count)
    ]


def test_api_version_is_the_connectors() -> None:
    assert get_connector("salesforce").url_defaults["api_version"] == API_VERSION
    with pytest.raises(ValueError, match="https origin"):
        SalesforceClient.for_instance("http://acme.my.salesforce.com", tenant_id="t")
    with pytest.raises(ValueError, match="https origin"):
        SalesforceClient.for_instance("https://acme.my.salesforce.com/evil?x=1", tenant_id="t")


async def test_query_follows_next_records_url_to_the_end(sim: SalesforceSimulator, time_: FakeTime) -> None:
    ids = seed_contacts(sim, 10)
    account = sim.seed(ORG, "Account", {"Name": "Acme", "Website": "acme.example"})
    opp = sim.seed(ORG, "Opportunity", {"Name": "Big deal", "StageName": "Prospecting", "AccountId": account})
    salesforce = client(sim, time_)

    contacts = await salesforce.list_all("Contact", fields=["Title"])

    assert [c.id for c in contacts] == ids
    assert [c.fields["Email"] for c in contacts] == [f"c{i}@example.com" for i in range(10)]
    assert contacts[0].type == "Contact" and contacts[2].system_modstamp == T0 + timedelta(hours=2)
    locators = [p for _, p in sim.requests if p.startswith(f"/services/data/v{API_VERSION}/query/")]
    assert len(locators) == 3 and locators[0].endswith("-3") and locators[-1].endswith("-9")
    assert [a.fields["Name"] for a in await salesforce.list_all("Account")] == ["Acme"]
    (deal,) = await salesforce.list_all("Opportunity")
    assert (deal.id, deal.fields["AccountId"], deal.fields["StageName"]) == (opp, account, "Prospecting")
    # Orgs share nothing.
    assert await client(sim, time_, token=OTHER_TOKEN).list_all("Contact") == []


async def test_incremental_query_returns_changes_after_a_time_oldest_first(
    sim: SalesforceSimulator, time_: FakeTime
) -> None:
    ids = seed_contacts(sim, 6)
    sim.touch(ORG, "Contact", ids[0], {"FirstName": "Changed"}, at=T0 + timedelta(hours=10))
    salesforce = client(sim, time_)

    changed = await salesforce.modified_since("Contact", T0 + timedelta(hours=3), fields=["FirstName"])

    # At or after: the record stamped exactly at +3 h comes again (the caller recognises it by id and stamp), so a
    # record changed in that same millisecond after the last read cannot be lost.
    assert [c.id for c in changed] == [ids[3], ids[4], ids[5], ids[0]]
    assert changed[-1].fields["FirstName"] == "Changed"
    assert sim.queries[-1].endswith("WHERE SystemModstamp >= 2026-12-01T03:00:00.000Z ORDER BY SystemModstamp, Id")
    assert soql_datetime(datetime.fromisoformat("2026-12-01T05:30:00.123456+02:00")) == "2026-12-01T03:30:00.123Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        await salesforce.modified_since("Contact", datetime(2026, 12, 1))


async def test_equal_stamps_come_in_id_order_on_every_page(sim: SalesforceSimulator, time_: FakeTime) -> None:
    ids = seed_contacts(sim, 7)
    same = T0 + timedelta(hours=20)
    for record_id in reversed(ids[:6]):  # one bulk update: six records in one millisecond, written last-first
        sim.touch(ORG, "Contact", record_id, {"Title": "Bulk"}, at=same)
    salesforce = client(sim, time_)

    # Ordered by the stamp alone, ties come back in the order they were written: a query issued again after a lost
    # locator could page them differently, skipping some and repeating others.
    loose = [r.id for r in await salesforce._all("SELECT Id, SystemModstamp FROM Contact ORDER BY SystemModstamp")]
    assert loose[1:] == list(reversed(ids[:6]))
    # The change query breaks ties by Id: one order, whatever the batches.
    first = [c.id for c in await salesforce.modified_since("Contact", same)]
    assert first == ids[:6]
    page = await salesforce.query_page(salesforce.modified_since_soql("Contact", same))
    assert page.next_records_url is not None and [r.id for r in page.records] == ids[:3]
    rest = await salesforce.query_page(
        salesforce.modified_since_soql("Contact", same), next_records_url=page.next_records_url
    )
    assert [r.id for r in rest.records] == ids[3:6] and rest.done


async def test_a_contact_query_can_read_its_account(sim: SalesforceSimulator, time_: FakeTime) -> None:
    account = sim.seed(ORG, "Account", {"Name": "Acme", "Website": "https://www.acme.example"})
    with_account = sim.seed(ORG, "Contact", {"LastName": "Lee", "AccountId": account}, at=T0)
    alone = sim.seed(ORG, "Contact", {"LastName": "Solo"}, at=T0 + timedelta(hours=1))
    salesforce = client(sim, time_)

    found = await salesforce.list_all("Contact", fields=["Account.Name", "Account.Website"])

    by_id = {c.id: c.fields for c in found}
    assert by_id[with_account]["Account"]["Name"] == "Acme"
    assert by_id[with_account]["Account"]["Website"] == "https://www.acme.example"
    assert by_id[alone]["Account"] is None
    with pytest.raises(PlatformValidationError) as unknown:
        await salesforce.list_all("Contact", fields=["Owner.Name"])
    assert unknown.value.status == 400


async def test_a_quote_in_a_value_cannot_change_the_query(sim: SalesforceSimulator, time_: FakeTime) -> None:
    seed_contacts(sim, 3)
    odd = "o'brien\\x@example.com"
    tricky = sim.seed(ORG, "Contact", {"Email": odd, "LastName": "O'Brien"})
    salesforce = client(sim, time_)

    injection = "nobody@example.com' OR Email != '"
    assert await salesforce.find_contacts_by_email(injection) == []
    assert [c.id for c in await salesforce.find_contacts_by_email(odd)] == [tricky]
    assert soql_string("a'b\\c\n") == "'a\\'b\\\\c\\n'"
    with pytest.raises(ValueError, match="field or object name"):
        await salesforce.list_all("Contact", fields=["Email FROM User --"])


async def test_upsert_by_external_id_creates_then_updates_without_duplicates(
    sim: SalesforceSimulator, time_: FakeTime
) -> None:
    salesforce = client(sim, time_)

    first = await salesforce.upsert_contact("Ext_Id__c", "crm/42", {"LastName": "Lee", "Email": "ann@example.com"})
    second = await salesforce.upsert_contact("Ext_Id__c", "crm/42", {"FirstName": "Ann", "Ext_Id__c": "ignored"})

    assert first.created and first.id is not None
    assert not second.created and second.id == first.id
    (ann,) = await salesforce.list_all("Contact")
    assert ann.id == first.id
    got = await salesforce.get("Contact", first.id, fields=["Title"])
    assert (got.fields["FirstName"], got.fields["LastName"], got.fields["Title"]) == ("Ann", "Lee", None)
    assert sim.requests[0] == ("PATCH", f"/services/data/v{API_VERSION}/sobjects/Contact/Ext_Id__c/crm/42")

    # Older API versions answer an update with 204 and no body.
    legacy = SalesforceSimulator(tokens={TOKEN: ORG}, clock=time_.now, update_status=204)
    old = client(legacy, time_)
    assert (await old.upsert_contact("Ext_Id__c", "7", {"LastName": "X"})).created
    assert (await old.upsert_contact("Ext_Id__c", "7", {"LastName": "Y"})).model_dump() == {
        "id": None,
        "created": False,
    }


async def test_server_errors_are_retried_for_queries_gets_and_upserts(
    sim: SalesforceSimulator, time_: FakeTime
) -> None:
    (contact_id,) = seed_contacts(sim, 1)
    salesforce = client(sim, time_)

    sim.fail_next(503, times=2)
    assert (await salesforce.get("Contact", contact_id)).id == contact_id
    sim.fail_next(500)
    assert len(await salesforce.list_all("Contact")) == 1
    sim.fail_next(502)
    assert (await salesforce.upsert_contact("Ext_Id__c", "e-1", {"LastName": "Z"})).created
    assert len(time_.sleeps) == 4
    assert len(await salesforce.list_all("Contact")) == 2


async def test_a_failing_page_locator_is_retried_and_a_listing_resumes(
    sim: SalesforceSimulator, time_: FakeTime
) -> None:
    ids = seed_contacts(sim, 8)
    salesforce = client(sim, time_)

    sim.fail_page(6, times=1)
    assert [c.id for c in await salesforce.list_all("Contact")] == ids
    assert len(time_.sleeps) == 1

    # Beyond the policy's attempts the listing raises; it resumes from the last nextRecordsUrl it saw.
    strict = client(sim, time_, attempts=2)
    sim.fail_page(3, times=2)
    seen: list[str] = []
    cursor: str | None = None
    soql = SalesforceClient.select("Contact")
    with pytest.raises(PlatformDown):
        async for page in strict.pages(soql):
            seen.extend(r.id for r in page.records)
            cursor = page.next_records_url
    assert seen == ids[:3] and cursor is not None and cursor.endswith("-3")
    async for page in strict.pages(soql, next_records_url=cursor):
        seen.extend(r.id for r in page.records)
    assert seen == ids

    with pytest.raises(ValueError, match="locator"):
        async for _ in strict.pages(soql, next_records_url="https://evil.example/services/data/v66.0/query/x-1"):
            pass


async def test_invalid_session_is_auth_expired_without_the_token(sim: SalesforceSimulator, time_: FakeTime) -> None:
    bad = "00DRO0000000009!AQ4AQdeadbeefdeadbeef"
    with pytest.raises(AuthExpired) as caught:
        await client(sim, time_, token=bad).list_all("Contact")
    text = f"{caught.value} {caught.value!r} {caught.value.hint}"
    assert "Salesforce" in text and "Session expired or invalid" in text
    assert bad not in text and "deadbeef" not in text
    assert time_.sleeps == []


async def test_daily_limit_is_rate_limited_and_every_answer_reports_usage(
    time_: FakeTime,
) -> None:
    sim = SalesforceSimulator(tokens={TOKEN: ORG}, clock=time_.now, daily_max=2)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app), base_url=INSTANCE) as raw:
        ok = await raw.get(
            f"/services/data/v{API_VERSION}/query",
            params={"q": "SELECT Id FROM Contact"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
    assert ok.status_code == 200 and ok.headers["Sforce-Limit-Info"] == "api-usage=1/2"
    salesforce = client(sim, time_)
    assert await salesforce.list_all("Contact") == []
    with pytest.raises(RateLimited) as caught:
        await salesforce.list_all("Contact")
    assert caught.value.status == 403 and "TotalRequests Limit exceeded" in str(caught.value)
    assert time_.sleeps == []


async def test_malformed_query_is_a_validation_error(sim: SalesforceSimulator, time_: FakeTime) -> None:
    salesforce = client(sim, time_)
    with pytest.raises(PlatformValidationError) as caught:
        async for _ in salesforce.pages("SELECT Id FROM Contact WHERE Email LIKE 'a%' LIMIT 5"):
            pass
    assert caught.value.status == 400 and "unexpected token" in str(caught.value)
    with pytest.raises(PlatformValidationError) as unknown:
        async for _ in salesforce.pages("SELECT Nope__x FROM Contact"):
            pass
    assert unknown.value.field == "Nope__x"


async def test_update_by_id_is_retried_and_create_is_sent_once(sim: SalesforceSimulator, time_: FakeTime) -> None:
    salesforce = client(sim, time_)

    created = await salesforce.create("Contact", {"LastName": "Lee", "Email": "ann@example.com"})
    sim.fail_next(503)
    await salesforce.update("Contact", created, {"FirstName": "Ann", "Title": "Buyer"})
    got = await salesforce.get("Contact", created, fields=["Title"])
    assert (got.fields["FirstName"], got.fields["LastName"], got.fields["Title"]) == ("Ann", "Lee", "Buyer")
    patch = ("PATCH", f"/services/data/v{API_VERSION}/sobjects/Contact/{created}")
    assert [r for r in sim.requests if r == patch] == [patch, patch] and len(time_.sleeps) == 1

    # A create carries no idempotency key (Salesforce takes none): a failure is not retried, it may have applied.
    sim.fail_next(503)
    with pytest.raises(PlatformDown) as down:
        await salesforce.create("Contact", {"LastName": "Kim"})
    assert down.value.attempts == 1
    assert [r for r in sim.requests if r[0] == "POST"] == [
        ("POST", f"/services/data/v{API_VERSION}/sobjects/Contact")
    ] * 2
    assert len(time_.sleeps) == 1

    with pytest.raises(PlatformValidationError) as missing:
        await salesforce.create("Contact", {"FirstName": "No last name"})
    assert missing.value.field == "LastName" and "Required fields are missing" in str(missing.value)
    with pytest.raises(ConnectorError) as gone:
        await salesforce.update("Contact", "003RO9999999999AAA", {"Title": "X"})
    assert gone.value.status == 404
    with pytest.raises(ValueError, match="Salesforce id"):
        await salesforce.update("Contact", "../Account/001", {"Title": "X"})


async def test_opportunities_say_whether_they_are_won_and_their_contact_roles_are_read_by_id_list(
    sim: SalesforceSimulator, time_: FakeTime
) -> None:
    ann, bob = seed_contacts(sim, 2)
    open_one = sim.seed(ORG, "Opportunity", {"Name": "A", "StageName": "Prospecting", "CloseDate": "2027-01-31"})
    won = sim.seed(ORG, "Opportunity", {"Name": "B", "StageName": "Closed Won", "CloseDate": "2027-01-31"})
    lost = sim.seed(ORG, "Opportunity", {"Name": "C", "StageName": "Closed Lost", "CloseDate": "2027-01-31"})
    for opportunity, contact in ((open_one, ann), (won, ann), (won, bob)):
        sim.seed(ORG, "OpportunityContactRole", {"OpportunityId": opportunity, "ContactId": contact, "IsPrimary": True})
    salesforce = client(sim, time_)

    deals = {d.id: d.fields for d in await salesforce.list_all("Opportunity", fields=["IsClosed", "IsWon"])}
    assert [(deals[i]["IsClosed"], deals[i]["IsWon"]) for i in (open_one, won, lost)] == [
        (False, False),
        (True, True),
        (True, False),
    ]
    sim.touch(ORG, "Opportunity", open_one, {"StageName": "Closed Won"}, at=T0 + timedelta(days=1))
    assert (await salesforce.get("Opportunity", open_one, fields=["IsWon"])).fields["IsWon"] is True
    with pytest.raises(PlatformValidationError) as locked:
        await salesforce.update("Opportunity", lost, {"IsWon": True})
    assert locked.value.field == "IsWon"

    roles = await salesforce.where_in("OpportunityContactRole", "OpportunityId", [won, lost, "x' OR Id != '"])
    assert sorted(r.fields["ContactId"] for r in roles) == [ann, bob]
    assert sim.queries[-1].endswith(f"WHERE OpportunityId IN ('{won}', '{lost}', 'x\\' OR Id != \\'') {CHANGE_ORDER}")
    # Long lists are asked 200 values at a time (the query stays far under the URI limit).
    many = [f"006XX{n:010d}AAA" for n in range(450)] + [open_one]
    asked = len(sim.queries)
    assert [
        r.fields["OpportunityId"] for r in await salesforce.where_in("OpportunityContactRole", "OpportunityId", many)
    ] == [open_one]
    assert len(sim.queries) - asked == 3
    with pytest.raises(ValueError, match="IN list"):
        SalesforceClient.where_in_soql("Contact", "Id", [])


async def test_email_lookups_ignore_case_as_soql_does(sim: SalesforceSimulator, time_: FakeTime) -> None:
    mixed = sim.seed(ORG, "Contact", {"Email": "Ann.Lee@Example.com", "LastName": "Lee"})
    assert [c.id for c in await client(sim, time_).find_contacts_by_email("ann.lee@example.com")] == [mixed]
