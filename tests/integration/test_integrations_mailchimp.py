"""The Mailchimp client against the in-process Mailchimp simulator (httpx.ASGITransport into ConnectorHttp).

Time is faked (tests.integration.connector_fakes): retries sleep on a fake clock that the simulator reads too, so
scheduled sends really come due and no test waits.
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta

import httpx
import pytest

from promptsales.domain_core.integrations.http import RequestPolicy
from promptsales.domain_core.integrations.mailchimp.client import (
    MailchimpClient,
    MemberUpsert,
    NewCampaign,
    data_center,
    mailchimp_base_url,
    read_oauth_metadata,
    subscriber_hash,
)
from promptsales.domain_core.integrations.mailchimp.simulator import MailchimpSimulator
from promptsales.domain_core.integrations.mailchimp.webhooks import MailchimpEvent, parse_event
from promptsales.domain_core.integrations.model.connectors import get_connector
from promptsales.domain_core.integrations.model.errors import (
    AuthExpired,
    PlatformDown,
    PlatformValidationError,
    RateLimited,
)
from promptsales.domain_core.shared.errors import ValidationFailed
from tests.integration.connector_fakes import T0, FakeTime

KEY = "5f1c0a7e9b2d4c6e8f0a1b3c5d7e9f21-us21"
OTHER_KEY = "0d9c8b7a6f5e4d3c2b1a0f9e8d7c6b5a-us6"
SANDBOX = get_connector("mailchimp").sandbox_base_url


@pytest.fixture
def sim(time_: FakeTime) -> MailchimpSimulator:
    simulator = MailchimpSimulator(tokens={KEY: "acme"}, clock=time_.now)
    simulator.grant(OTHER_KEY, "globex")
    return simulator


def client(
    sim: MailchimpSimulator,
    time_: FakeTime,
    *,
    key: str = KEY,
    attempts: int = 4,
    base_url: str = SANDBOX,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> MailchimpClient:
    return MailchimpClient.for_api_key(
        key,
        tenant_id="tenant-acme",
        base_url=base_url,
        policy=RequestPolicy(max_attempts=attempts, deadline_s=120.0),
        transport=httpx.ASGITransport(app=sim.app),
        sleep=sleep or time_.sleep,
        clock=time_.monotonic,
        jitter=lambda: 0.0,
        now=time_.now,
    )


def calls(sim: MailchimpSimulator, method: str, suffix: str) -> int:
    return sum(1 for m, path in sim.requests if m == method and path.endswith(suffix))


class Inbox:
    """A webhook receiver: records every delivery and answers ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.bodies: list[bytes] = []
        self.headers: list[Mapping[str, str]] = []

    async def __call__(self, headers: Mapping[str, str], body: bytes) -> int:
        self.headers.append(headers)
        self.bodies.append(body)
        return self.status

    def events(self) -> list[MailchimpEvent]:
        return [parse_event(body) for body in self.bodies]


# --- API key and data centre ----------------------------------------------------------------------------------


def test_the_api_key_names_the_data_centre_and_a_bad_one_is_a_clear_error() -> None:
    assert data_center(KEY) == "us21" and data_center(f"  {OTHER_KEY}\n") == "us6"
    assert mailchimp_base_url("us21") == "https://us21.api.mailchimp.com/3.0"
    bad_keys = ("", "us21", "5f1c0a7e9b2d4c6e8f0a1b3c5d7e9f21", f"{KEY}/evil", "5f1c0a7e-us21", f"{KEY[:-5]}-evil.com")
    for bad in bad_keys:
        with pytest.raises(ValidationFailed) as caught:
            MailchimpClient.for_api_key(bad, tenant_id="t")
        assert caught.value.field == "api_key" and "api_key" in caught.value.message
        assert len(bad) < 8 or bad.strip() not in caught.value.public_message()
    for dc in ("us21.evil.com", "US21", "", "us"):
        with pytest.raises(ValidationFailed) as dc_error:
            mailchimp_base_url(dc)
        assert dc_error.value.field == "dc"


def test_oauth_metadata_gives_the_data_centre_and_cannot_point_elsewhere() -> None:
    metadata = read_oauth_metadata(
        {"dc": "us19", "api_endpoint": "https://us19.api.mailchimp.com", "accountname": "Acme", "login_url": "x"}
    )
    assert (metadata.dc, metadata.api_endpoint, metadata.accountname) == (
        "us19",
        "https://us19.api.mailchimp.com",
        "Acme",
    )
    with pytest.raises(ValidationFailed) as moved:
        read_oauth_metadata({"dc": "us19", "api_endpoint": "https://evil.example"})
    assert moved.value.field == "api_endpoint"
    with pytest.raises(ValidationFailed) as no_dc:
        read_oauth_metadata({"api_endpoint": "https://us19.api.mailchimp.com"})
    assert no_dc.value.field == "dc"


async def test_ping_with_a_key_or_an_oauth_token(sim: MailchimpSimulator, time_: FakeTime) -> None:
    assert await client(sim, time_).ping() == "Everything's Chimpy!"
    sim.grant("oauth-token-acme-7Yx2", "acme")
    oauth = MailchimpClient.for_oauth(
        "oauth-token-acme-7Yx2", "us21", tenant_id="t", base_url=SANDBOX, transport=httpx.ASGITransport(app=sim.app)
    )
    assert await oauth.ping() == "Everything's Chimpy!"


# --- listings -------------------------------------------------------------------------------------------------


async def test_audiences_are_read_to_the_end_and_accounts_share_nothing(
    sim: MailchimpSimulator, time_: FakeTime
) -> None:
    extra = [sim.add_audience("acme", f"Audience {i}") for i in range(4)]
    sim.seed_member("acme", extra[0], "a@acme.example")
    sim.seed_member("acme", extra[0], "b@acme.example", status="unsubscribed")

    audiences = await client(sim, time_).audiences(count=2)

    assert [a.id for a in audiences] == [sim.default_audience("acme"), *extra]
    assert calls(sim, "GET", "/lists") == 3
    assert (audiences[1].name, audiences[1].member_count, audiences[1].unsubscribe_count) == ("Audience 0", 1, 1)
    other = await client(sim, time_, key=OTHER_KEY).audiences()
    assert [a.id for a in other] == [sim.default_audience("globex")] and other[0].id not in extra


async def test_members_are_read_to_the_end_and_incrementally(sim: MailchimpSimulator, time_: FakeTime) -> None:
    list_id = sim.default_audience("acme")
    emails = [f"m{i}@acme.example" for i in range(7)]
    for email in emails:
        sim.seed_member("acme", list_id, email, merge_fields={"FNAME": email[:2]}, at=T0)
    mailchimp = client(sim, time_)

    members = await mailchimp.members(list_id, count=3)

    assert [m.email_address for m in members] == emails and calls(sim, "GET", "/members") == 3
    assert members[0].id == subscriber_hash("M0@Acme.example ") and members[0].merge_fields["FNAME"] == "m0"
    assert members[0].last_changed == T0 and members[0].list_id == list_id
    # Later: one member's merge fields change and another gets a tag; only those two are read again.
    time_.elapsed = 600.0
    await mailchimp.upsert_member(list_id, MemberUpsert(email_address=emails[2], merge_fields={"FNAME": "Ann"}))
    await mailchimp.set_tags(list_id, emails[5], active=["vip"])
    changed = await mailchimp.members(list_id, since_last_changed=T0 + timedelta(minutes=5), count=3)
    assert [(m.email_address, m.merge_fields["FNAME"], m.tags) for m in changed] == [
        (emails[2], "Ann", ()),
        (emails[5], "m5", ("vip",)),
    ]
    assert await mailchimp.members(list_id, since_last_changed=T0 + timedelta(hours=1)) == []
    with pytest.raises(ValueError, match="count"):
        await mailchimp.members(list_id, count=1001)


# --- member writes --------------------------------------------------------------------------------------------


async def test_upserting_a_member_twice_makes_one_member_even_when_retried(
    sim: MailchimpSimulator, time_: FakeTime
) -> None:
    list_id = sim.default_audience("acme")
    mailchimp = client(sim, time_)
    member = MemberUpsert(email_address="Jo.Doe@Customer.example", merge_fields={"FNAME": "Jo", "LNAME": "Doe"})
    sim.fail_next(503, after_apply=True)  # the first PUT is applied and its answer lost: the retry finds it

    first = await mailchimp.upsert_member(list_id, member)
    time_.elapsed = 60.0
    second = await mailchimp.upsert_member(list_id, member)

    assert first.id == second.id == subscriber_hash("jo.doe@customer.example")
    assert list(sim.audience("acme", list_id).members) == [first.id]
    assert calls(sim, "PUT", first.id) == 3 and time_.sleeps == [0.125]
    assert (second.status, second.merge_fields["FNAME"], second.merge_fields["LNAME"]) == ("subscribed", "Jo", "Doe")
    assert second.last_changed == first.last_changed == T0  # the same content again changes nothing
    # status_if_new applies to new addresses only; status changes an existing one.
    pending = await mailchimp.upsert_member(
        list_id, MemberUpsert(email_address="new@customer.example", status_if_new="pending")
    )
    kept = await mailchimp.upsert_member(
        list_id, MemberUpsert(email_address=member.email_address, status_if_new="pending")
    )
    assert (pending.status, kept.status) == ("pending", "subscribed")


async def test_tags_are_added_and_removed_and_retried_safely(sim: MailchimpSimulator, time_: FakeTime) -> None:
    list_id = sim.default_audience("acme")
    sim.seed_member("acme", list_id, "t@acme.example")
    mailchimp = client(sim, time_)

    await mailchimp.set_tags(list_id, "t@acme.example", active=["vip", "beta"])
    sim.fail_next(502, after_apply=True)
    await mailchimp.set_tags(list_id, "t@acme.example", active=["vip"], inactive=["beta"])

    assert (await mailchimp.member(list_id, "t@acme.example")).tags == ("vip",)
    assert calls(sim, "POST", "/tags") == 3 and len(time_.sleeps) == 1
    with pytest.raises(ValidationFailed) as empty:
        await mailchimp.set_tags(list_id, "t@acme.example")
    assert empty.value.field == "tags"


async def test_an_invalid_merge_field_is_a_validation_error_naming_it(sim: MailchimpSimulator, time_: FakeTime) -> None:
    list_id = sim.default_audience("acme")
    sim.add_merge_field("acme", list_id, "LTV", type="number")
    mailchimp = client(sim, time_)

    with pytest.raises(PlatformValidationError) as caught:
        await mailchimp.upsert_member(
            list_id, MemberUpsert(email_address="x@acme.example", merge_fields={"LTV": "AAA"})
        )

    assert caught.value.field == "LTV" and caught.value.status == 400 and time_.sleeps == []
    assert "merge fields were invalid" in str(caught.value) and sim.audience("acme", list_id).members == {}
    with pytest.raises(PlatformValidationError) as birthday:
        await mailchimp.upsert_member(
            list_id, MemberUpsert(email_address="x@acme.example", merge_fields={"BIRTHDAY": "1990-01-31"})
        )
    assert birthday.value.field == "BIRTHDAY"
    ok = await mailchimp.upsert_member(
        list_id, MemberUpsert(email_address="x@acme.example", merge_fields={"LTV": 12.5, "BIRTHDAY": "01/31"})
    )
    assert ok.merge_fields["LTV"] == 12.5
    # A key that cannot be a merge tag is refused before any request.
    before = len(sim.requests)
    with pytest.raises(ValidationFailed) as tag:
        await mailchimp.upsert_member(
            list_id, MemberUpsert(email_address="x@acme.example", merge_fields={"fname": "a"})
        )
    assert tag.value.field == "merge_fields.fname" and len(sim.requests) == before


async def test_refused_addresses_name_email_address(sim: MailchimpSimulator, time_: FakeTime) -> None:
    list_id = sim.default_audience("acme")
    sim.seed_member("acme", list_id, "gone@acme.example")
    sim.forget("acme", list_id, "gone@acme.example")
    sim.seed_member("acme", list_id, "taken@acme.example")
    sim.seed_member("acme", list_id, "me@acme.example")
    sim.seed_member("acme", list_id, "left@acme.example", status="unsubscribed")
    mailchimp = client(sim, time_)

    with pytest.raises(PlatformValidationError) as forgotten:
        await mailchimp.upsert_member(list_id, MemberUpsert(email_address="gone@acme.example"))
    with pytest.raises(PlatformValidationError) as exists:
        await mailchimp.change_email(list_id, "me@acme.example", "taken@acme.example")
    with pytest.raises(PlatformValidationError) as compliance:
        await mailchimp.upsert_member(list_id, MemberUpsert(email_address="left@acme.example", status="subscribed"))

    for error, words in ((forgotten, "permanently deleted"), (exists, "already a list member")):
        assert error.value.field == "email_address" and words in str(error.value)
    assert compliance.value.field == "email_address" and "'pending'" in (compliance.value.hint or "")
    # What the hint says works: the person is asked to confirm again.
    again = await mailchimp.upsert_member(list_id, MemberUpsert(email_address="left@acme.example", status="pending"))
    assert again.status == "pending"
    moved = await mailchimp.change_email(list_id, "me@acme.example", "me2@acme.example")
    assert moved.id == subscriber_hash("me2@acme.example") and calls(sim, "PATCH", "") == 2


async def test_unsubscribes_flow_into_webhook_events(sim: MailchimpSimulator, time_: FakeTime) -> None:
    list_id = sim.default_audience("acme")
    for email in ("u1@acme.example", "u2@acme.example", "u3@acme.example", "u4@acme.example"):
        sim.seed_member("acme", list_id, email, merge_fields={"FNAME": "U"})
    inbox = Inbox()
    sim.deliver = inbox
    mailchimp = client(sim, time_)
    time_.elapsed = 30.0

    member = await mailchimp.unsubscribe(list_id, "u1@acme.example")
    await mailchimp.archive_member(list_id, "u2@acme.example")
    await sim.user_unsubscribes("acme", list_id, "u3@acme.example", campaign_id="c1")
    await sim.clean("acme", list_id, "u4@acme.example")
    await mailchimp.unsubscribe(list_id, "u1@acme.example")  # already unsubscribed: no second event

    assert member.status == "unsubscribed"
    events = inbox.events()
    assert [(e.type, e.email, e.action, e.reason) for e in events] == [
        ("unsubscribe", "u1@acme.example", "unsub", "manual"),
        ("unsubscribe", "u2@acme.example", "delete", "manual"),
        ("unsubscribe", "u3@acme.example", "unsub", "manual"),
        ("cleaned", "u4@acme.example", None, "hard"),
    ]
    assert all(e.list_id == list_id and e.fired_at == T0 + timedelta(seconds=30) for e in events)
    assert events[0].merges == {"FNAME": "U", "LNAME": "", "PHONE": "", "BIRTHDAY": "", "EMAIL": "u1@acme.example"}
    assert events[2].campaign_id == "c1" and len({e.id for e in events}) == 4
    assert inbox.headers[0]["Content-Type"] == "application/x-www-form-urlencoded"
    assert [m.email_address for m in await mailchimp.members(list_id)] == [f"u{i}@acme.example" for i in (1, 3, 4)]


async def test_a_failed_webhook_delivery_waits_and_redelivers_the_same_event(
    sim: MailchimpSimulator, time_: FakeTime
) -> None:
    list_id = sim.default_audience("acme")
    sim.seed_member("acme", list_id, "r@acme.example")
    inbox = Inbox(status=500)
    sim.deliver = inbox

    await client(sim, time_).unsubscribe(list_id, "r@acme.example")
    assert len(sim.outbox) == 1
    inbox.status = 200
    assert await sim.flush_webhooks() == 1 and sim.outbox == []

    first, again = inbox.events()
    assert first == again and first.type == "unsubscribe"  # the receiver dedupes on first.id
    sim.deliver = None
    await sim.user_unsubscribes("acme", list_id, "r@acme.example")  # no change, no event
    sim.seed_member("acme", list_id, "q@acme.example")
    await sim.clean("acme", list_id, "q@acme.example", reason="abuse")
    (queued,) = sim.outbox
    assert parse_event(queued[1]).reason == "abuse"


async def test_archive_retried_after_a_lost_answer_succeeds(sim: MailchimpSimulator, time_: FakeTime) -> None:
    list_id = sim.default_audience("acme")
    sim.seed_member("acme", list_id, "a@acme.example")
    mailchimp = client(sim, time_)
    sim.fail_next(503, after_apply=True)

    await mailchimp.archive_member(list_id, "a@acme.example")

    assert calls(sim, "DELETE", subscriber_hash("a@acme.example")) == 2
    assert (await mailchimp.member(list_id, "a@acme.example")).status == "archived"
    with pytest.raises(Exception) as missing:  # never a member: a real 404 on the first attempt
        await mailchimp.archive_member(list_id, "nobody@acme.example")
    assert getattr(missing.value, "status", None) == 404


# --- campaigns ------------------------------------------------------------------------------------------------


def new_campaign(list_id: str, **changes: object) -> NewCampaign:
    fields: dict[str, object] = {
        "list_id": list_id,
        "subject_line": "December news",
        "from_name": "Acme",
        "reply_to": "hello@acme.example",
    }
    return NewCampaign.model_validate({**fields, **changes})


def audience_of(sim: MailchimpSimulator, size: int) -> str:
    list_id = sim.default_audience("acme")
    for i in range(size):
        sim.seed_member("acme", list_id, f"reader{i:04d}@acme.example", at=T0)
    sim.seed_member("acme", list_id, "former@acme.example", status="unsubscribed", at=T0)
    return list_id


async def test_create_content_send_and_a_deterministic_report(sim: MailchimpSimulator, time_: FakeTime) -> None:
    list_id = audience_of(sim, 1000)
    inbox = Inbox()
    sim.deliver = inbox
    mailchimp = client(sim, time_)
    time_.elapsed = 3600.0

    campaign = await mailchimp.create_campaign(new_campaign(list_id, title="Dec"))
    await mailchimp.set_content(campaign.id, "<p>Hello *|FNAME|*</p>")
    await mailchimp.send_campaign(campaign.id)
    report = await mailchimp.report(campaign.id)

    assert campaign.status == "save" and campaign.list_id == list_id and campaign.title == "Dec"
    sent = await mailchimp.campaign(campaign.id)
    assert (sent.status, sent.emails_sent, sent.send_time) == ("sent", 1000, T0 + timedelta(hours=1))
    # benchmarks.md §6.1 rates on 1,000 subscribed recipients (the unsubscribed one is not sent to).
    numbers = (report.emails_sent, report.hard_bounces, report.soft_bounces, report.unsubscribed)
    assert numbers == (1000, 4, 6, 3)
    assert (report.unique_opens, report.open_rate, report.unique_clicks, report.click_rate) == (225, 0.2273, 29, 0.0293)
    # The bounced are cleaned and the unsubscribers leave, each as a webhook event.
    kinds = [e.type for e in inbox.events()]
    assert kinds.count("cleaned") == 4 and kinds.count("unsubscribe") == 3
    (audience,) = [a for a in await mailchimp.audiences() if a.id == list_id]
    assert (audience.member_count, audience.cleaned_count, audience.unsubscribe_count) == (993, 4, 4)

    # The same audience on a fresh simulator gives the same report.
    twin = MailchimpSimulator(tokens={KEY: "acme"}, clock=time_.now)
    twin_list = audience_of(twin, 1000)
    twin_client = client(twin, time_)
    twin_campaign = await twin_client.create_campaign(new_campaign(twin_list, title="Dec"))
    await twin_client.set_content(twin_campaign.id, "<p>Hello</p>")
    await twin_client.send_campaign(twin_campaign.id)
    assert (await twin_client.report(twin_campaign.id)).model_dump(exclude={"id"}) == report.model_dump(exclude={"id"})


async def test_send_is_not_retried_and_says_it_may_have_gone_out(sim: MailchimpSimulator, time_: FakeTime) -> None:
    list_id = audience_of(sim, 3)
    mailchimp = client(sim, time_)
    campaign = await mailchimp.create_campaign(new_campaign(list_id))
    await mailchimp.set_content(campaign.id, "<p>Hi</p>")
    sim.fail_next(503, after_apply=True)

    with pytest.raises(PlatformDown) as caught:
        await mailchimp.send_campaign(campaign.id)

    assert calls(sim, "POST", "/actions/send") == 1 and time_.sleeps == []
    assert caught.value.may_have_applied and caught.value.status == 503
    assert "may have been applied" in (caught.value.hint or "")
    # It did go out: exactly why it must not be sent again blindly. The campaign's status tells.
    assert (await mailchimp.campaign(campaign.id)).status == "sent"
    sim.fail_next(500, after_apply=True)
    with pytest.raises(PlatformDown) as create:
        await mailchimp.create_campaign(new_campaign(list_id))
    assert create.value.may_have_applied and calls(sim, "POST", "/campaigns") == 2
    assert len(sim.account("acme").campaigns) == 2  # a second draft exists: the caller is told to look first


async def test_a_campaign_that_is_not_ready_is_refused_naming_what_is_missing(
    sim: MailchimpSimulator, time_: FakeTime
) -> None:
    list_id = audience_of(sim, 2)
    mailchimp = client(sim, time_)
    campaign = await mailchimp.create_campaign(new_campaign(list_id))

    with pytest.raises(PlatformValidationError) as no_content:
        await mailchimp.send_campaign(campaign.id)
    with pytest.raises(PlatformValidationError) as bad_list:
        await mailchimp.create_campaign(new_campaign("0000000000"))

    assert no_content.value.field == "content" and "not ready to send" in str(no_content.value)
    assert bad_list.value.field == "recipients.list_id"
    with pytest.raises(Exception) as no_report:
        await mailchimp.report(campaign.id)
    assert getattr(no_report.value, "status", None) == 404


async def test_a_scheduled_campaign_to_a_static_segment_goes_out_when_due(
    sim: MailchimpSimulator, time_: FakeTime
) -> None:
    list_id = audience_of(sim, 10)
    mailchimp = client(sim, time_)
    segment = await mailchimp.create_static_segment(
        list_id, "VIPs", ["reader0001@acme.example", "reader0002@acme.example", "stranger@elsewhere.example"]
    )
    campaign = await mailchimp.create_campaign(new_campaign(list_id, segment_id=segment.id))
    await mailchimp.set_content(campaign.id, "<p>VIP</p>")

    with pytest.raises(ValidationFailed) as off_grid:
        await mailchimp.schedule_campaign(campaign.id, T0 + timedelta(minutes=20))
    await mailchimp.schedule_campaign(campaign.id, T0 + timedelta(minutes=30))
    assert off_grid.value.field == "schedule_time" and segment.member_count == 2
    assert (await mailchimp.campaign(campaign.id)).status == "schedule"
    time_.elapsed = 31 * 60.0

    report = await mailchimp.report(campaign.id)

    assert report.emails_sent == 2 and report.send_time == T0 + timedelta(minutes=31)
    assert (await mailchimp.campaign(campaign.id)).segment_id == segment.id


# --- limits, failures and credentials ---------------------------------------------------------------------------


async def test_more_than_ten_connections_get_429_and_the_retry_copes(sim: MailchimpSimulator, time_: FakeTime) -> None:
    gate = asyncio.Event()
    sim.gate = gate  # answers are slow: every request stays in its connection until the gate opens

    async def sleep(seconds: float) -> None:
        await time_.sleep(seconds)
        gate.set()  # while the refused call waits, the ten in flight finish
        for _ in range(5):
            await asyncio.sleep(0)

    mailchimp = client(sim, time_, sleep=sleep)
    results = await asyncio.gather(*(mailchimp.ping() for _ in range(11)))

    assert results == ["Everything's Chimpy!"] * 11
    assert calls(sim, "GET", "/ping") == 12 and time_.sleeps == [0.125]  # no Retry-After: the policy's backoff

    # Raw: the eleventh connection is refused with problem+json and no rate headers.
    sim.gate = asyncio.Event()
    auth = httpx.BasicAuth("any", KEY)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app), base_url=SANDBOX, auth=auth) as raw:
        held = [asyncio.create_task(raw.get("/ping")) for _ in range(10)]
        for _ in range(20):
            await asyncio.sleep(0)
        refused = await raw.get("/ping")
        sim.gate.set()
        assert {r.status_code for r in await asyncio.gather(*held)} == {200}
    assert refused.status_code == 429 and "retry-after" not in refused.headers
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["title"] == "Too Many Requests"


async def test_a_429_is_honoured_and_reported_when_it_persists(sim: MailchimpSimulator, time_: FakeTime) -> None:
    sim.fail_next(429, retry_after=7)
    assert await client(sim, time_).ping() == "Everything's Chimpy!"
    assert time_.sleeps == [7.0]
    sim.fail_next(429)
    with pytest.raises(RateLimited) as caught:
        await client(sim, time_, attempts=1).ping()
    assert caught.value.retry_after_seconds is None and "simultaneous connections" in str(caught.value)
    sim.fail_next(503, times=4, html=True)
    with pytest.raises(PlatformDown) as blocked:
        await client(sim, time_).audiences()
    assert blocked.value.status == 503 and blocked.value.detail is None  # the HTML page is not shown


async def test_a_revoked_or_misplaced_key_is_auth_expired_without_the_key(
    sim: MailchimpSimulator, time_: FakeTime
) -> None:
    mailchimp = client(sim, time_)
    assert await mailchimp.ping()
    sim.revoke(KEY)
    # The right key on another data centre's host is refused as well.
    elsewhere = client(sim, time_, key=OTHER_KEY, base_url="https://us21.api.mailchimp.com/3.0")
    for refused in (mailchimp, elsewhere):
        with pytest.raises(AuthExpired) as caught:
            await refused.audiences()
        text = f"{caught.value} {caught.value!r} {caught.value.hint}"
        assert "Mailchimp" in text and caught.value.status == 401 and "API key may be invalid" in text
        assert KEY not in text and OTHER_KEY not in text and KEY[:32] not in text
    assert time_.sleeps == []
    assert await client(sim, time_, key=OTHER_KEY, base_url="https://us6.api.mailchimp.com/3.0").ping()
