"""Pure parts of the Salesforce and Zendesk connectors: addresses, credentials, events, person fields."""

import base64
import json
from datetime import UTC, datetime

import pytest

from promptsales.domain_core.integrations.model.person_fields import clip, usable_phone, website_domain
from promptsales.domain_core.integrations.salesforce.driver import SalesforceDriver, instance_origin
from promptsales.domain_core.integrations.zendesk.client import Ticket, User
from promptsales.domain_core.integrations.zendesk.driver import ZendeskDriver
from promptsales.domain_core.integrations.zendesk.support_sync import channel_of, requester_person, ticket_local_id
from promptsales.domain_core.integrations.zendesk.webhooks import parse_event
from promptsales.domain_core.shared.errors import ValidationFailed


def test_salesforce_calls_the_org_instance_from_its_token_or_my_domain() -> None:
    driver = SalesforceDriver()
    assert driver.live_base_url({"instance_url": "https://acme.my.salesforce.com"}) == "https://acme.my.salesforce.com"
    assert driver.live_base_url({"my_domain": "Acme"}) == "https://acme.my.salesforce.com"
    assert driver.sandbox_base_url({}) == "https://salesforce.sandbox.promptsales.invalid"
    for bad in (
        "http://acme.my.salesforce.com",
        "https://evil.example",
        "https://acme.my.salesforce.com.evil.example",
        "https://acme.my.salesforce.com/services?x=1",
        "https://user@acme.my.salesforce.com",
    ):
        with pytest.raises(ValidationFailed):
            instance_origin(bad)
    with pytest.raises(ValidationFailed) as unknown:
        driver.live_base_url({})
    assert "integrations_connect" in (unknown.value.hint or "")


def test_zendesk_takes_an_api_token_as_email_slash_token_or_an_oauth_token() -> None:
    driver = ZendeskDriver()
    basic = driver.auth_headers({"access_token": "agent@acme.com/token:AbC123xyz"})["Authorization"]
    assert basic == "Basic " + base64.b64encode(b"agent@acme.com/token:AbC123xyz").decode()
    assert driver.auth_headers({"access_token": "0123456789abcdef"}) == {"Authorization": "Bearer 0123456789abcdef"}
    for malformed in ("agent@acme.com:AbC123xyz", "agent@acme.com/token:", "not-an-email/token:abc", "a b"):
        with pytest.raises(ValidationFailed) as refused:
            driver.auth_headers({"access_token": malformed})
        assert refused.value.field == "api_key" and "/token:" in (refused.value.hint or "")
        assert "AbC123xyz" not in str(refused.value)


def test_zendesk_needs_a_subdomain_that_is_one_name() -> None:
    driver = ZendeskDriver()
    assert driver.live_base_url({"subdomain": "Acme-EU"}) == "https://acme-eu.zendesk.com"
    assert driver.sandbox_base_url({"subdomain": "t1"}) == "https://t1.zendesk.sandbox.promptsales.invalid"
    for parts in ({}, {"subdomain": "acme.zendesk.com"}, {"subdomain": "https://acme"}):
        with pytest.raises(ValidationFailed) as refused:
            driver.live_base_url(parts)
        assert refused.value.field == "subdomain"


def test_a_zendesk_event_names_its_id_and_ticket() -> None:
    event = {"id": "01JZ-1", "type": "zen:event-type:ticket.status_changed", "subject": "zen:ticket:42", "detail": {}}
    assert parse_event(json.dumps(event).encode(), {}) == ("01JZ-1", "zen:event-type:ticket.status_changed", 42)
    detail = {"id": "ev-2", "type": "zen:event-type:ticket.created", "detail": {"id": "7"}}
    assert parse_event(json.dumps(detail).encode(), {})[2] == 7  # type: ignore[index]
    trigger = json.dumps({"ticket_id": 9}).encode()
    assert parse_event(trigger, {"x-zendesk-webhook-invocation-id": "inv-9"}) == ("inv-9", "ticket.webhook", 9)
    for body, headers in (
        (trigger, {}),  # no event id anywhere
        (b"not json", {}),
        (json.dumps({"id": "x", "subject": "zen:user:1"}).encode(), {}),
        (json.dumps({"id": "bad id with spaces", "ticket_id": 1}).encode(), {}),
        (json.dumps([{"ticket_id": 1}]).encode(), {}),
    ):
        assert parse_event(body, headers) is None


def test_requesters_and_channels_map_to_the_crm() -> None:
    moment = datetime(2026, 12, 1, tzinfo=UTC)
    person = requester_person(User(id=5, name="  Ana  María García ", email="ana@x.example", updated_at=moment))
    assert (person.first_name, person.last_name, person.external_id) == ("Ana María", "García", "5")
    assert requester_person(User(id=6, name="Cher")).first_name == "Cher"
    assert requester_person(User(id=7, phone="555-1234")).phone is None  # no country code: left out
    assert channel_of(Ticket(id=1, via={"channel": "email"})) == "email"
    assert channel_of(Ticket(id=1, via={"channel": "native_messaging"})) == "chat"
    assert channel_of(Ticket(id=1, via={"channel": "api"})) == "web"
    assert channel_of(Ticket(id=1)) == "web"
    assert ticket_local_id(12) == "zendesk-ticket:12"


def test_person_fields_the_crm_would_refuse_are_left_out() -> None:
    assert usable_phone("+1 415 555 2671") == "+14155552671"
    assert usable_phone("(415) 555-2671") is None and usable_phone("n/a") is None and usable_phone(None) is None
    assert website_domain("https://www.Acme.example/about") == "acme.example"
    assert website_domain("acme.example:8080") == "acme.example"
    assert website_domain("N/A") is None and website_domain("") is None
    assert clip("  a   b  ", 10) == "a b" and clip("x" * 300, 5) == "xxxxx" and clip(42, 5) is None
