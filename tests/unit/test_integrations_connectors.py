"""The connector catalogue: every platform of issue 9, each fact cited, URLs built safely."""

import json
from importlib import resources

import pytest

from promptsales.domain_core.integrations.model.connectors import (
    FACT_NAMES,
    AuthKind,
    Capability,
    Strength,
    catalogue,
    connectors_with,
    get_connector,
    parse_catalogue,
)
from promptsales.domain_core.shared.errors import NotFound, ValidationFailed

EXPECTED = {
    "hubspot": Capability.CRM_SYNC,
    "salesforce": Capability.CRM_SYNC,
    "zendesk": Capability.SUPPORT_SYNC,
    "whatsapp": Capability.MESSAGING,
    "twilio": Capability.MESSAGING,
    "google_ads": Capability.ADS,
    "meta_ads": Capability.ADS,
    "tiktok_ads": Capability.ADS,
    "linkedin_ads": Capability.ADS,
    "mailchimp": Capability.EMAIL_MARKETING,
    "canva": Capability.DESIGN_ASSETS,
    "adobe_express": Capability.DESIGN_ASSETS,
}


def _raw() -> dict:  # type: ignore[type-arg]
    text = resources.files("promptsales.domain_core.integrations.model").joinpath("connectors.json").read_text("utf-8")
    return json.loads(text)  # type: ignore[no-any-return]


def test_catalogue_lists_every_platform_of_the_issue_with_its_capability() -> None:
    connectors = catalogue()
    assert set(connectors) == set(EXPECTED)
    for connector_id, capability in EXPECTED.items():
        assert capability in connectors[connector_id].capabilities


@pytest.mark.parametrize("connector_id", sorted(EXPECTED))
def test_every_fact_cites_a_source_and_unknowns_are_said(connector_id: str) -> None:
    connector = get_connector(connector_id)
    assert set(FACT_NAMES) <= set(connector.facts)
    for fact in connector.facts.values():
        assert fact.source.strip()
        if fact.strength is Strength.NOT_IN_REFERENCE:
            assert fact.note, f"{connector_id}: a fact missing from the reference must say what is unknown"
    assert connector.live_base_url.startswith("https://")
    assert (
        connector.sandbox_base_url.startswith("https://")
        and ".sandbox.promptsales.invalid" in connector.sandbox_base_url
    )


def test_known_facts_from_the_reference() -> None:
    zendesk = get_connector("zendesk")
    assert zendesk.accepts_idempotency_key and zendesk.idempotency_header == "Idempotency-Key"
    assert zendesk.auth_kind is AuthKind.API_KEY
    assert get_connector("meta_ads").auth_kind is AuthKind.SYSTEM_USER_TOKEN
    assert "X-Business-Use-Case-Usage" in get_connector("meta_ads").rate_limit_headers
    assert get_connector("salesforce").rate_limit_headers == ("Sforce-Limit-Info",)
    assert get_connector("canva").auth_kind is AuthKind.OAUTH2_PKCE
    assert get_connector("hubspot").live_base_url == "https://api.hubapi.com"
    # No idempotency header is invented: only Zendesk documents one.
    assert [c.id for c in catalogue().values() if c.accepts_idempotency_key] == ["zendesk"]
    # Adobe Express is not in the reference: the data says so instead of pretending.
    assert get_connector("adobe_express").facts["live_base_url"].strength is Strength.NOT_IN_REFERENCE


def test_live_url_fills_tenant_parts_and_versions() -> None:
    assert get_connector("zendesk").live_url(subdomain="acme") == "https://acme.zendesk.com/api/v2"
    assert get_connector("mailchimp").live_url(dc="us6") == "https://us6.api.mailchimp.com/3.0"
    assert get_connector("meta_ads").live_url() == "https://graph.facebook.com/v25.0"
    assert get_connector("meta_ads").live_url(graph_version="26.0") == "https://graph.facebook.com/v26.0"


@pytest.mark.parametrize(
    ("connector_id", "parts", "field"),
    [
        ("zendesk", {}, "subdomain"),
        ("zendesk", {"subdomain": "evil.com/x?"}, "subdomain"),
        ("zendesk", {"subdomain": "acme", "dc": "us6"}, "dc"),
        ("salesforce", {"my_domain": "https://acme.my.salesforce.com"}, "my_domain"),
    ],
)
def test_live_url_refuses_missing_or_malformed_parts_naming_them(
    connector_id: str, parts: dict[str, str], field: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        get_connector(connector_id).live_url(**parts)
    assert caught.value.field == field


def test_unknown_platform_is_not_found_and_lists_valid_ones() -> None:
    with pytest.raises(NotFound) as caught:
        get_connector("myspace")
    assert "hubspot" in caught.value.public_message()


def test_connectors_with_a_capability() -> None:
    assert [c.id for c in connectors_with(Capability.ADS)] == ["google_ads", "linkedin_ads", "meta_ads", "tiktok_ads"]


def test_a_connector_without_a_cited_fact_is_refused() -> None:
    raw = _raw()
    del raw["connectors"][0]["facts"]["idempotency_header"]
    with pytest.raises(ValueError, match="cites no source for idempotency_header"):
        parse_catalogue(json.dumps(raw))


def test_a_duplicate_connector_is_refused() -> None:
    raw = _raw()
    raw["connectors"].append(raw["connectors"][0])
    with pytest.raises(ValueError, match="listed twice"):
        parse_catalogue(json.dumps(raw))
