"""The Zendesk client against the in-process Zendesk simulator (httpx.ASGITransport into ConnectorHttp).

Time is faked (tests.integration.connector_fakes): retries sleep on a fake clock that the simulator reads too, so
rate windows really pass and no test waits.
"""

import base64
from collections.abc import Mapping
from datetime import timedelta

import httpx
import pytest

from promptsales.domain_core.integrations.http import ConnectorHttp, RequestPolicy
from promptsales.domain_core.integrations.model.connectors import get_connector
from promptsales.domain_core.integrations.model.errors import (
    AuthExpired,
    ConnectorError,
    PlatformDown,
    PlatformValidationError,
    RateLimited,
)
from promptsales.domain_core.integrations.zendesk.client import NewTicket, ZendeskClient, zendesk_origin
from promptsales.domain_core.integrations.zendesk.simulator import ZendeskSimulator
from tests.integration.connector_fakes import T0, FakeTime

TOKEN = "zd-api-token-acme-6wiIBWbGkBMo1mRDMuVwkw1EPsNkeUj95PIz2akv"
OTHER_TOKEN = "zd-api-token-globex-Q2hhbmdlTWVQbGVhc2UxMjM0NTY3ODkw"
SUB, OTHER_SUB = "acme", "globex"


@pytest.fixture
def sim(time_: FakeTime) -> ZendeskSimulator:
    return ZendeskSimulator(tokens={TOKEN: SUB, OTHER_TOKEN: OTHER_SUB}, clock=time_.now, export_page_size=3)


def client(
    sim: ZendeskSimulator,
    time_: FakeTime,
    *,
    subdomain: str = SUB,
    token: str = TOKEN,
    basic: bool = False,
    attempts: int = 4,
) -> ZendeskClient:
    async def auth() -> Mapping[str, str]:
        if basic:
            pair = base64.b64encode(f"agent@{subdomain}.example/token:{token}".encode()).decode()
            return {"Authorization": f"Basic {pair}"}
        return {"Authorization": f"Bearer {token}"}

    return ZendeskClient.for_subdomain(
        subdomain,
        tenant_id=f"tenant-{subdomain}",
        auth=auth,
        policy=RequestPolicy(max_attempts=attempts, deadline_s=120.0),
        transport=httpx.ASGITransport(app=sim.app),
        **time_.policy(),
        secrets=(token,),
    )


def new_ticket(subject: str = "Printer on fire", body: str = "It is on fire.") -> NewTicket:
    return NewTicket(subject=subject, comment=body, requester_email="jo@customer.example", tags=("vip",))


def test_the_subdomain_can_only_name_a_zendesk_host() -> None:
    assert zendesk_origin("acme-eu") == "https://acme-eu.zendesk.com"
    for bad in ("evil.example/x", "acme.evil", "", "-acme", "Acme", "a@b"):
        with pytest.raises(ValueError, match="subdomain"):
            ZendeskClient.for_subdomain(bad, tenant_id="t")


async def test_incremental_export_reads_to_end_of_stream_and_resumes(sim: ZendeskSimulator, time_: FakeTime) -> None:
    ids = [sim.seed_ticket(SUB, f"T{i}", at=T0 + timedelta(minutes=i)) for i in range(7)]
    sim.seed_ticket(OTHER_SUB, "Not ours", at=T0)
    time_.elapsed = 3600.0
    zendesk = client(sim, time_, basic=True)

    pages = [page async for page in zendesk.export_pages(start_time=T0 + timedelta(minutes=1))]

    assert [[t.id for t in p.tickets] for p in pages] == [ids[1:4], ids[4:7]]
    assert [p.end_of_stream for p in pages] == [False, True]
    assert pages[0].tickets[0].subject == "T1" and pages[0].tickets[0].status == "new"
    exports = [path for sub, _, path in sim.requests if path.endswith("/cursor.json")]
    assert len(exports) == 2 and {sub for sub, _, _ in sim.requests} == {SUB}
    # Later changes come from the last cursor kept: only the changed ticket, nothing read twice.
    last = pages[-1].after_cursor
    sim.touch(SUB, ids[0], at=T0 + timedelta(minutes=30), status="open")
    (again,) = [page async for page in zendesk.export_pages(cursor=last)]
    assert [(t.id, t.status) for t in again.tickets] == [(ids[0], "open")] and again.end_of_stream
    other = await client(sim, time_, subdomain=OTHER_SUB, token=OTHER_TOKEN).tickets_changed_since(T0)
    assert [t.subject for t in other] == ["Not ours"]


async def test_a_failing_export_cursor_is_retried(sim: ZendeskSimulator, time_: FakeTime) -> None:
    ids = [sim.seed_ticket(SUB, f"T{i}", at=T0 + timedelta(minutes=i)) for i in range(5)]
    time_.elapsed = 3600.0
    zendesk = client(sim, time_)
    first = await zendesk.export_page(start_time=T0)
    assert first.after_cursor is not None
    sim.fail_cursor(first.after_cursor, status=503)

    assert [t.id for t in await zendesk.tickets_changed_since(T0)] == ids
    assert time_.sleeps == [0.125]


async def test_comments_follow_the_cursor_across_pages(sim: ZendeskSimulator, time_: FakeTime) -> None:
    ticket = sim.seed_ticket(SUB, "Long thread", comment="c0")
    for i in range(1, 8):
        sim.add_comment(SUB, ticket, f"c{i}")
    zendesk = client(sim, time_)

    comments = await zendesk.comments(ticket, size=3)

    assert [c.body for c in comments] == [f"c{i}" for i in range(8)]
    calls = [path for _, _, path in sim.requests if path.endswith("/comments")]
    assert len(calls) == 3
    first = await zendesk.comments_page(ticket, size=3)
    assert first.next_after is not None and len(first.comments) == 3
    # One page failing once is retried and the listing still ends complete.
    sim.fail_cursor(first.next_after)
    assert len(await zendesk.comments(ticket, size=3)) == 8 and len(time_.sleeps) == 1
    with pytest.raises(ValueError, match="size"):
        await zendesk.comments(ticket, size=101)


async def test_create_with_an_idempotency_key_retried_after_a_lost_answer_makes_one_ticket(
    sim: ZendeskSimulator, time_: FakeTime
) -> None:
    zendesk = client(sim, time_)
    sim.fail_next(503, after_apply=True)

    created = await zendesk.create_ticket(new_ticket(), idempotency_key="op-7f3a")

    assert len(sim.account(SUB).tickets) == 1
    assert created.replayed and created.ticket.subject == "Printer on fire" and created.ticket.tags == ("vip",)
    assert [m for _, m, _ in sim.requests] == ["POST", "POST"] and len(time_.sleeps) == 1
    # The same key and body again: the same ticket. The same key with another body: Zendesk refuses it.
    assert (await zendesk.create_ticket(new_ticket(), idempotency_key="op-7f3a")).ticket.id == created.ticket.id
    with pytest.raises(PlatformValidationError) as refused:
        await zendesk.create_ticket(new_ticket(body="Now it is out."), idempotency_key="op-7f3a")
    assert refused.value.status == 400 and "different payload" in str(refused.value)
    assert len(sim.account(SUB).tickets) == 1
    fresh = await zendesk.create_ticket(new_ticket(), idempotency_key="op-8000")
    assert not fresh.replayed and fresh.ticket.id != created.ticket.id


async def test_create_without_a_key_is_sent_once(sim: ZendeskSimulator, time_: FakeTime) -> None:
    zendesk = client(sim, time_)
    sim.fail_next(503, after_apply=True)

    with pytest.raises(PlatformDown) as caught:
        await zendesk.create_ticket(new_ticket())

    assert [m for _, m, _ in sim.requests] == ["POST"] and time_.sleeps == []
    assert caught.value.status == 503
    # The answer was lost, not the write: exactly why it must not be resent blindly.
    assert len(sim.account(SUB).tickets) == 1
    with pytest.raises(PlatformValidationError) as invalid:
        await zendesk.create_ticket(NewTicket(subject="s", comment="c", requester_email="nobody"))
    assert invalid.value.status == 422 and invalid.value.field == "requester"


async def test_status_update(sim: ZendeskSimulator, time_: FakeTime) -> None:
    ticket = sim.seed_ticket(SUB, "Question", status="open")
    zendesk = client(sim, time_)
    time_.elapsed = 90.0
    sim.fail_next(502)

    updated = await zendesk.update_status(ticket, "solved")

    assert (updated.id, updated.status) == (ticket, "solved") and updated.updated_at == T0 + timedelta(seconds=90)
    assert sim.account(SUB).tickets[ticket]["status"] == "solved" and len(time_.sleeps) == 1
    sim.touch(SUB, ticket, at=T0, status="closed")
    with pytest.raises(PlatformValidationError) as closed:
        await zendesk.update_status(ticket, "open")
    assert closed.value.status == 422 and closed.value.field == "status"


async def test_429_retry_after_is_honoured(time_: FakeTime) -> None:
    sim = ZendeskSimulator(tokens={TOKEN: SUB}, clock=time_.now, rate_limit_per_minute=2)
    ticket = sim.seed_ticket(SUB, "Busy")
    zendesk = client(sim, time_)
    time_.elapsed = 15.0

    for _ in range(3):
        await zendesk.comments(ticket)

    assert time_.sleeps == [45.0]  # Retry-After: to the end of the minute, exactly, not backoff
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app), base_url=zendesk_origin(SUB)) as raw:
        answer = await raw.get(f"/api/v2/tickets/{ticket}/comments", headers={"Authorization": f"Bearer {TOKEN}"})
        third = await raw.get(f"/api/v2/tickets/{ticket}/comments", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.headers["X-Rate-Limit"] == "2" and answer.headers["X-Rate-Limit-Remaining"] == "0"
    assert third.status_code == 429 and third.headers["Retry-After"] == "60"
    strict = client(sim, time_, attempts=1)
    with pytest.raises(RateLimited) as caught:
        await strict.comments(ticket)
    assert caught.value.retry_after_seconds == 60.0 and "Rate limit exceeded" in str(caught.value)


async def test_bad_token_is_auth_expired_without_the_token(sim: ZendeskSimulator, time_: FakeTime) -> None:
    bad = "zd-api-token-acme-deadbeefdeadbeefdeadbeef"
    for zendesk in (
        client(sim, time_, token=bad, basic=True),
        client(sim, time_, token=bad),
        # A valid token on another tenant's subdomain is refused as well.
        client(sim, time_, subdomain=OTHER_SUB, token=TOKEN),
    ):
        with pytest.raises(AuthExpired) as caught:
            await zendesk.tickets_changed_since(T0)
        text = f"{caught.value} {caught.value!r} {caught.value.hint}"
        assert "Zendesk" in text and caught.value.status == 401
        assert bad not in text and "deadbeef" not in text and TOKEN not in text
    assert time_.sleeps == []


async def test_export_pages_are_sized_and_carry_their_requesters(sim: ZendeskSimulator, time_: FakeTime) -> None:
    ids = [
        sim.seed_ticket(SUB, f"T{i}", at=T0 + timedelta(minutes=i), requester_email=f"p{i % 2}@customer.example")
        for i in range(4)
    ]
    time_.elapsed = 3600.0
    zendesk = client(sim, time_)

    first = await zendesk.export_page(start_time=T0, per_page=2, include_users=True)

    assert [t.id for t in first.tickets] == ids[:2] and not first.end_of_stream
    assert sorted(u.email or "" for u in first.users) == ["p0@customer.example", "p1@customer.example"]
    assert {u.role for u in first.users} == {"end-user"}
    assert first.tickets[0].channel == "web"
    plain = await zendesk.export_page(start_time=T0)
    assert plain.users == () and len(plain.tickets) == 3  # the simulator's page size caps per_page
    with pytest.raises(ValueError, match="per_page"):
        await zendesk.export_page(start_time=T0, per_page=1001)


async def test_a_ticket_is_read_with_its_requester_and_comments_name_their_authors(
    sim: ZendeskSimulator, time_: FakeTime
) -> None:
    ticket = sim.seed_ticket(SUB, "Help", comment="It broke", requester_email="jo@customer.example", channel="email")
    sim.add_comment(SUB, ticket, "We are on it")  # the account's agent
    sim.add_comment(SUB, ticket, "Thanks!", author_email="jo@customer.example")
    sim.add_comment(SUB, ticket, "Escalated to tier 2", public=False)
    zendesk = client(sim, time_, basic=True)

    current = await zendesk.ticket(ticket)
    (requester,) = current.users
    assert (current.ticket.id, current.ticket.channel, requester.id) == (ticket, "email", current.ticket.requester_id)
    assert requester.email == "jo@customer.example"
    comments = await zendesk.comments(ticket)
    authors = [c.author_id == requester.id for c in comments]
    assert authors == [True, False, True, False] and [c.public for c in comments] == [True, True, True, False]
    assert (await zendesk.user(requester.id)).email == "jo@customer.example"
    me = await zendesk.me()
    assert (me.email, me.role) == (f"agent@{SUB}.example", "admin")
    with pytest.raises(ConnectorError) as missing:
        await zendesk.ticket(999)
    assert missing.value.status == 404


async def test_the_sandbox_host_names_the_account(sim: ZendeskSimulator, time_: FakeTime) -> None:
    sim.seed_ticket(SUB, "Sandboxed")

    async def auth() -> Mapping[str, str]:
        return {"Authorization": f"Bearer {TOKEN}"}

    http = ConnectorHttp(
        get_connector("zendesk"),
        base_url=f"https://{SUB}.zendesk.sandbox.promptsales.invalid",
        tenant_id="t",
        auth=auth,
        transport=httpx.ASGITransport(app=sim.app),
    )
    async with http:
        (page,) = [p async for p in ZendeskClient(http).export_pages(start_time=T0)]
    assert [t.subject for t in page.tickets] == ["Sandboxed"]
