"""Mailchimp audience webhooks: the URL secret, the form-encoded events, the reply to each request (pure)."""

from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest

from promptsales.domain_core.integrations.mailchimp.webhooks import (
    BODY_MAX,
    FIELDS_MAX,
    event_id,
    parse_event,
    receive,
    verify_url_secret,
)
from promptsales.domain_core.shared.errors import ValidationFailed

SECRET = "wh-7f3a9c1e5b2d4a6f8e0c"


def body(pairs: list[tuple[str, str]]) -> bytes:
    return urlencode(pairs).encode()


UNSUBSCRIBE = body(
    [
        ("type", "unsubscribe"),
        ("fired_at", "2009-03-26 21:40:57"),
        ("data[action]", "unsub"),
        ("data[reason]", "manual"),
        ("data[id]", "8a25ff1d98"),
        ("data[list_id]", "a6b5da1054"),
        ("data[email]", "api+unsub@mailchimp.com"),
        ("data[email_type]", "html"),
        ("data[merges][EMAIL]", "api+unsub@mailchimp.com"),
        ("data[merges][FNAME]", "Mailchimp"),
        ("data[merges][INTERESTS]", "Group1,Group2"),
        ("data[merges][GROUPINGS][0][name]", "Colours"),
        ("data[ip_opt]", "10.20.10.30"),
        ("data[campaign_id]", "cb398d21d2"),
    ]
)


def test_an_unsubscribe_is_read_with_its_merges_and_campaign() -> None:
    event = parse_event(UNSUBSCRIBE)

    assert (event.type, event.email, event.list_id) == ("unsubscribe", "api+unsub@mailchimp.com", "a6b5da1054")
    assert (event.action, event.reason, event.campaign_id) == ("unsub", "manual", "cb398d21d2")
    assert event.fired_at == datetime(2009, 3, 26, 21, 40, 57, tzinfo=UTC)
    assert event.merges == {
        "EMAIL": "api+unsub@mailchimp.com",
        "FNAME": "Mailchimp",
        "INTERESTS": "Group1,Group2",
        "GROUPINGS[0][name]": "Colours",
    }
    assert event.data["ip_opt"] == "10.20.10.30" and event.data["id"] == "8a25ff1d98"


def test_the_event_id_is_stable_for_redeliveries_and_differs_between_events() -> None:
    first = parse_event(UNSUBSCRIBE)

    assert parse_event(UNSUBSCRIBE).id == first.id and len(first.id) == 32
    fired = datetime(2009, 3, 26, 21, 40, 57, tzinfo=UTC)
    assert first.id == event_id("unsubscribe", fired, "a6b5da1054", "API+Unsub@Mailchimp.com")
    others = {
        event_id("subscribe", fired, "a6b5da1054", "api+unsub@mailchimp.com"),
        event_id("unsubscribe", fired.replace(second=58), "a6b5da1054", "api+unsub@mailchimp.com"),
        event_id("unsubscribe", fired, "ffffffffff", "api+unsub@mailchimp.com"),
        event_id("unsubscribe", fired, "a6b5da1054", "someone@mailchimp.com"),
    }
    assert first.id not in others and len(others) == 4


def test_every_event_type_is_read() -> None:
    base = [("fired_at", "2026-12-01 10:00:00"), ("data[list_id]", "a6b5da1054")]
    subscribe = parse_event(body([("type", "subscribe"), *base, ("data[email]", "new@x.example")]))
    profile = parse_event(body([("type", "profile"), *base, ("data[email]", "p@x.example")]))
    cleaned = parse_event(body([("type", "cleaned"), *base, ("data[email]", "c@x.example"), ("data[reason]", "hard")]))
    upemail = parse_event(
        body([("type", "upemail"), *base, ("data[new_email]", "n@x.example"), ("data[old_email]", "o@x.example")])
    )
    campaign = parse_event(body([("type", "campaign"), *base, ("data[id]", "5aa2102003"), ("data[status]", "sent")]))

    assert [e.type for e in (subscribe, profile, cleaned, upemail, campaign)] == [
        "subscribe",
        "profile",
        "cleaned",
        "upemail",
        "campaign",
    ]
    assert (cleaned.email, cleaned.reason) == ("c@x.example", "hard")
    assert (upemail.email, upemail.old_email) == ("n@x.example", "o@x.example")
    assert (campaign.email, campaign.campaign_id, campaign.data["status"]) == (None, "5aa2102003", "sent")


@pytest.mark.parametrize(
    ("pairs", "field"),
    [
        ([("fired_at", "2026-12-01 10:00:00"), ("data[list_id]", "l"), ("data[email]", "e@x.example")], "type"),
        ([("type", "bounce"), ("fired_at", "2026-12-01 10:00:00"), ("data[list_id]", "l")], "type"),
        ([("type", "subscribe"), ("fired_at", "2026-12-01T10:00:00Z"), ("data[list_id]", "l")], "fired_at"),
        ([("type", "subscribe"), ("fired_at", "2026-12-01 10:00:00"), ("data[email]", "e@x.example")], "data[list_id]"),
        ([("type", "subscribe"), ("fired_at", "2026-12-01 10:00:00"), ("data[list_id]", "l")], "data[email]"),
        ([("type", "upemail"), ("fired_at", "2026-12-01 10:00:00"), ("data[list_id]", "l")], "data[new_email]"),
        ([("type", "campaign"), ("fired_at", "2026-12-01 10:00:00"), ("data[list_id]", "l")], "data[id]"),
    ],
)
def test_a_malformed_event_names_its_field(pairs: list[tuple[str, str]], field: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_event(body(pairs))
    assert caught.value.field == field and field in caught.value.message


def test_bodies_are_bounded() -> None:
    for raw in (
        b"x" * (BODY_MAX + 1),
        b"type=subscribe&data[email]=\xff\xfe",
        "&".join(f"data[f{i}]=v" for i in range(FIELDS_MAX + 1)).encode(),
    ):
        with pytest.raises(ValidationFailed) as caught:
            parse_event(raw)
        assert caught.value.field == "body"
    with pytest.raises(ValidationFailed) as long_value:
        parse_event(body([("type", "subscribe"), ("data[email]", "a" * 3000)]))
    assert long_value.value.field == "data[email]"


def test_the_url_secret_is_compared_exactly() -> None:
    assert verify_url_secret(SECRET, SECRET)
    for given in (None, "", SECRET[:-1], SECRET + "0", SECRET.upper(), "wh-\udc80"):
        assert not verify_url_secret(SECRET, given)
    assert not verify_url_secret("", "")  # no configured secret accepts nothing


def test_the_reply_to_each_request() -> None:
    validation = receive("GET", expected_secret=SECRET, given_secret=None, body=b"")
    assert (validation.status, validation.event) == (200, None)  # Mailchimp's URL check needs no secret
    assert receive("post", expected_secret=SECRET, given_secret="guess", body=UNSUBSCRIBE).status == 403
    assert receive("PUT", expected_secret=SECRET, given_secret=SECRET, body=UNSUBSCRIBE).status == 405
    broken = receive("POST", expected_secret=SECRET, given_secret=SECRET, body=b"type=nope")
    assert (broken.status, broken.reason) == (400, "type")
    accepted = receive("POST", expected_secret=SECRET, given_secret=SECRET, body=UNSUBSCRIBE)
    assert accepted.status == 200 and accepted.event == parse_event(UNSUBSCRIBE)
