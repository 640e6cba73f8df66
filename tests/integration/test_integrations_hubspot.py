"""The HubSpot client against the in-process HubSpot simulator (httpx.ASGITransport into ConnectorHttp).

Time is faked: the policy's sleep advances one clock that both the policy and the simulator read, so rate
windows really pass and no test waits.
"""

from collections.abc import Mapping
from datetime import datetime, timedelta

import httpx
import pytest

from promptsales.domain_core.integrations.http import ConnectorHttp, RequestPolicy
from promptsales.domain_core.integrations.hubspot.client import ContactUpsert, HubSpotClient
from promptsales.domain_core.integrations.hubspot.simulator import HubSpotSimulator
from promptsales.domain_core.integrations.model.connectors import get_connector
from promptsales.domain_core.integrations.model.errors import AuthExpired, ConnectorError, PlatformDown
from tests.integration.connector_fakes import T0, FakeTime

TOKEN = "pat-na1-0a1b2c3d-4e5f-6789-abcd-ef0123456789"
OTHER_TOKEN = "pat-na1-99999999-8888-7777-6666-555555555555"
PORTAL, OTHER_PORTAL = 4242, 5151


@pytest.fixture
def sim(time_: FakeTime) -> HubSpotSimulator:
    return HubSpotSimulator(tokens={TOKEN: PORTAL, OTHER_TOKEN: OTHER_PORTAL}, clock=time_.now)


def client(sim: HubSpotSimulator, time_: FakeTime, *, token: str = TOKEN, attempts: int = 4) -> HubSpotClient:
    async def auth() -> Mapping[str, str]:
        return {"Authorization": f"Bearer {token}"}

    http = ConnectorHttp(
        get_connector("hubspot"),
        base_url="https://api.hubapi.com",
        tenant_id="tenant-a",
        auth=auth,
        policy=RequestPolicy(max_attempts=attempts, deadline_s=60.0),
        transport=httpx.ASGITransport(app=sim.app),
        **time_.policy(),
    )
    return HubSpotClient(http)


def seed_contacts(sim: HubSpotSimulator, count: int, *, portal: int = PORTAL) -> list[str]:
    return [
        sim.seed(portal, "contacts", {"email": f"c{i}@example.com", "firstname": f"C{i}"}, at=T0 + timedelta(hours=i))
        for i in range(count)
    ]


async def test_lists_every_record_across_pages_to_the_end(sim: HubSpotSimulator, time_: FakeTime) -> None:
    ids = seed_contacts(sim, 8)
    company = sim.seed(PORTAL, "companies", {"name": "Acme", "domain": "acme.example", "industry": "RETAIL"})
    hubspot = client(sim, time_)

    contacts = await hubspot.list_all("contacts", limit=3, properties=["firstname"])

    assert [c.id for c in contacts] == ids
    assert [c.properties["email"] for c in contacts] == [f"c{i}@example.com" for i in range(8)]
    assert contacts[2].created_at == T0 + timedelta(hours=2)
    assert [m for m, p in sim.requests if p == "/crm/v3/objects/contacts"] == ["GET"] * 3
    companies = await hubspot.list_all("companies", properties=["industry"])
    assert [(c.id, c.properties["industry"]) for c in companies] == [(company, "RETAIL")]
    # Portals share nothing.
    assert await client(sim, time_, token=OTHER_TOKEN).list_all("contacts") == []


async def test_search_returns_records_modified_since_oldest_first(sim: HubSpotSimulator, time_: FakeTime) -> None:
    ids = seed_contacts(sim, 6)
    sim.touch(PORTAL, "contacts", ids[0], {"firstname": "Changed"}, at=T0 + timedelta(hours=10))
    acme = sim.seed(PORTAL, "companies", {"name": "Acme"}, at=T0)
    globex = sim.seed(PORTAL, "companies", {"name": "Globex"}, at=T0 + timedelta(hours=5))
    hubspot = client(sim, time_)

    changed = await hubspot.modified_since("contacts", T0 + timedelta(hours=3), limit=2, properties=["firstname"])

    assert [c.id for c in changed] == [ids[3], ids[4], ids[5], ids[0]]
    assert changed[-1].properties["firstname"] == "Changed"
    assert [c.id for c in await hubspot.modified_since("companies", T0 + timedelta(hours=1))] == [globex]
    assert acme != globex
    page = await hubspot.search_modified_since("contacts", T0 + timedelta(hours=3), limit=2)
    assert page.total == 4 and page.next_after == "2"
    with pytest.raises(ValueError, match="timezone-aware"):
        await hubspot.search_modified_since("contacts", datetime(2026, 12, 1))


async def test_batch_upsert_creates_then_updates_by_email_without_duplicates(
    sim: HubSpotSimulator, time_: FakeTime
) -> None:
    hubspot = client(sim, time_)

    first = await hubspot.upsert_contacts(
        [ContactUpsert(email="ann@example.com", properties={"firstname": "Ann"}), ContactUpsert(email="bo@example.com")]
    )
    second = await hubspot.upsert_contacts(
        [ContactUpsert(email="ann@example.com", properties={"firstname": "Annie", "lastname": "Lee"})]
    )

    assert [r.new for r in first.results] == [True, True] and first.errors == ()
    assert [r.new for r in second.results] == [False]
    assert second.results[0].id == first.results[0].id
    contacts = await hubspot.list_all("contacts")
    assert len(contacts) == 2
    ann = await hubspot.get("contacts", first.results[0].id, properties=["firstname", "lastname"])
    assert (ann.properties["firstname"], ann.properties["lastname"]) == ("Annie", "Lee")


async def test_rate_limit_waits_as_hubspot_asks(sim: HubSpotSimulator, time_: FakeTime) -> None:
    seed_contacts(sim, 2)
    sim.fail_next(429, times=2, retry_after=3)
    hubspot = client(sim, time_)

    assert len(await hubspot.list_all("contacts")) == 2
    assert time_.sleeps == [3.0, 3.0]

    # Without Retry-After, a used-up rolling window means waiting one full interval (X-HubSpot-RateLimit-*).
    tight = HubSpotSimulator(tokens={TOKEN: PORTAL}, clock=time_.now, rate_max=2, rate_interval_ms=10_000)
    seed_contacts(tight, 3)
    time_.sleeps.clear()
    assert len(await client(tight, time_).list_all("contacts", limit=1)) == 3
    assert time_.sleeps == [10.0]


async def test_rate_limit_answer_has_hubspots_headers_and_body(sim: HubSpotSimulator) -> None:
    sim.fail_next(429)
    sim.fail_next(429, retry_after=7)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app), base_url="https://h") as raw:
        limited = await raw.get("/crm/v3/objects/contacts", headers={"Authorization": f"Bearer {TOKEN}"})
        told = await raw.get("/crm/v3/objects/contacts", headers={"Authorization": f"Bearer {TOKEN}"})
        ok = await raw.get("/crm/v3/objects/contacts", headers={"Authorization": f"Bearer {TOKEN}"})
    assert limited.status_code == 429
    assert limited.json()["errorType"] == "RATE_LIMIT"
    assert limited.json()["policyName"] == "TEN_SECONDLY_ROLLING"
    assert limited.json()["status"] == "error" and limited.json()["correlationId"]
    assert limited.headers["X-HubSpot-RateLimit-Remaining"] == "0"
    assert limited.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert told.status_code == 429 and told.headers["Retry-After"] == "7"
    assert ok.status_code == 200
    assert ok.headers["X-HubSpot-RateLimit-Max"] == "100"
    assert ok.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "249999"  # the injected 429 spent nothing


async def test_server_errors_are_retried_for_reads_search_and_upsert(sim: HubSpotSimulator, time_: FakeTime) -> None:
    (contact_id,) = seed_contacts(sim, 1)
    hubspot = client(sim, time_)

    sim.fail_next(503, times=2)
    assert (await hubspot.get("contacts", contact_id)).id == contact_id
    sim.fail_next(502)
    assert len(await hubspot.modified_since("contacts", T0)) == 1
    sim.fail_next(500)
    outcome = await hubspot.upsert_contacts([ContactUpsert(email="c0@example.com", properties={"firstname": "Z"})])
    assert [r.new for r in outcome.results] == [False]
    assert len(time_.sleeps) == 4
    assert len(await hubspot.list_all("contacts")) == 1


async def test_a_listing_failing_mid_way_resumes_from_its_last_cursor(sim: HubSpotSimulator, time_: FakeTime) -> None:
    ids = seed_contacts(sim, 7)
    hubspot = client(sim, time_, attempts=2)
    sim.fail_page(ids[3], times=2)  # the second page, beyond the policy's two attempts

    seen: list[str] = []
    cursor: str | None = None
    with pytest.raises(PlatformDown):
        async for page in hubspot.pages("contacts", limit=3):
            seen.extend(r.id for r in page.results)
            cursor = page.next_after
    assert seen == ids[:3] and cursor == ids[3]

    async for page in hubspot.pages("contacts", after=cursor, limit=3):
        seen.extend(r.id for r in page.results)
    assert seen == ids

    # A page failing once is retried by the policy within the listing.
    sim.fail_page(ids[6], times=1)
    assert [c.id for c in await hubspot.list_all("contacts", limit=3)] == ids


async def test_bad_token_is_auth_expired_without_the_token(sim: HubSpotSimulator, time_: FakeTime) -> None:
    bad = "pat-na1-deadbeef-0000-1111-2222-333333333333"
    with pytest.raises(AuthExpired) as caught:
        await client(sim, time_, token=bad).list_all("contacts")
    text = f"{caught.value} {caught.value!r} {caught.value.hint}"
    assert "HubSpot" in text and "expired or is invalid" in text and "Reconnect" in text
    assert bad not in text and "deadbeef" not in text
    assert time_.sleeps == []


async def test_unknown_id_is_a_not_found_error(sim: HubSpotSimulator, time_: FakeTime) -> None:
    with pytest.raises(ConnectorError) as caught:
        await client(sim, time_).get("contacts", "999")
    assert caught.value.status == 404
