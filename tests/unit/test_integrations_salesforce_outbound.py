"""Salesforce Outbound Message parsing (pure): the ids it carries, and what it refuses."""

import pytest

from promptsales.domain_core.integrations.salesforce.outbound import Notice, ack, message, parse

ORG, ACTION = "00D5e000000KQ2eEAG", "04k5e000000CaRkAAK"


def test_a_message_gives_its_org_and_one_notice_per_record() -> None:
    notices = [
        Notice("04l5e00000Gx7QzAAJ", "Contact", "0035e00000ZkM3hAAF"),
        Notice("04l5e00000Gx7R0AAJ", "Account", "0015e00000ZkM3h"),
    ]
    parsed = parse(message(ORG, ACTION, notices))
    assert (parsed.organization_id, parsed.action_id, parsed.notices) == (ORG, ACTION, tuple(notices))
    assert "<Ack>true</Ack>" in ack() and "<Ack>false</Ack>" in ack(accepted=False)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not xml", "not XML"),
        (b"<x/>", "no notifications"),
        (
            message("not-an-id", ACTION, [Notice("04l5e00000Gx7QzAAJ", "Contact", "0035e00000ZkM3hAAF")]),
            "OrganizationId",
        ),
        (message(ORG, ACTION, []), "1-100"),
        (message(ORG, ACTION, [Notice("04l5e00000Gx7QzAAJ", "Contact", "bad id!")]), "sObject Id"),
        (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', "DTD"),
        (b"<x>" + b"a" * 600_000 + b"</x>", "larger"),
    ],
)
def test_anything_else_is_refused_saying_what(body: bytes, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse(body)
