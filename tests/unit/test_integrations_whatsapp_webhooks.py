"""WhatsApp webhooks (platform_apis.md §7, §3): X-Hub-Signature-256, the hub.* handshake and the payload parser."""

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from promptsales.domain_core.integrations.whatsapp.webhooks import (
    MAX_BODY_BYTES,
    InboundMessage,
    SignatureVerdict,
    StatusUpdate,
    UnsupportedEvent,
    answer_handshake,
    check,
    parse_payload,
    sign,
)

SECRET = "wa-app-secret-0001"
BODY = b'{"object":"whatsapp_business_account","entry":[]}'
# Computed independently: printf '%s' '<body>' | openssl dgst -sha256 -hmac <secret>
VECTOR = "sha256=7601a6efa6c4d098741a01cc568e507e454e9d4ad34e8b571a076d9e7a76c2ba"
WABA, NUMBER = "102290129340398", "106540352242922"
AT = "1796601600"  # 2026-12-07T00:00:00Z
AT_TIME = datetime(2026, 12, 7, tzinfo=UTC)


def verdict(**overrides: Any) -> SignatureVerdict:
    arguments: dict[str, Any] = {"app_secret": SECRET, "body": BODY, "signature": VECTOR}
    arguments.update(overrides)
    return check(**arguments)


def envelope(value: dict[str, Any], *, field: str = "messages") -> bytes:
    metadata = {"display_phone_number": "15550001111", "phone_number_id": NUMBER}
    change = {"field": field, "value": {"messaging_product": "whatsapp", "metadata": metadata, **value}}
    return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": WABA, "changes": [change]}]}).encode()


# --- signature -----------------------------------------------------------------------------------------------------


def test_a_valid_signature_matches_an_independently_computed_vector() -> None:
    assert sign(app_secret=SECRET, body=BODY) == VECTOR
    assert verdict() is SignatureVerdict.VALID
    # Whitespace around the header and upper-case hex (a proxy may change case) still match.
    assert verdict(signature=f"  sha256={VECTOR.removeprefix('sha256=').upper()}\n") is SignatureVerdict.VALID


def test_a_forged_or_tampered_delivery_is_refused() -> None:
    assert verdict(app_secret="another-app-secret") is SignatureVerdict.BAD_SIGNATURE
    assert verdict(body=BODY.replace(b"[]", b"[{}]")) is SignatureVerdict.BAD_SIGNATURE
    assert verdict(body=BODY + b" ") is SignatureVerdict.BAD_SIGNATURE  # the raw bytes are signed, not the JSON
    assert verdict(signature=VECTOR[:-1] + "0") is SignatureVerdict.BAD_SIGNATURE


def test_a_missing_header_or_secret_is_missing() -> None:
    assert verdict(signature=None) is SignatureVerdict.MISSING
    assert verdict(signature="") is SignatureVerdict.MISSING
    assert verdict(app_secret="") is SignatureVerdict.MISSING


def test_a_wrong_prefix_or_shape_is_refused() -> None:
    hexdigest = VECTOR.removeprefix("sha256=")
    for bad in (hexdigest, f"sha1={hexdigest}", f"SHA256:{hexdigest}", "sha256=", f"sha256={hexdigest}é", "x" * 500):
        assert verdict(signature=bad) is SignatureVerdict.BAD_SIGNATURE, bad


# --- handshake -----------------------------------------------------------------------------------------------------


def test_the_handshake_echoes_the_challenge_only_for_our_verify_token() -> None:
    query = {"hub.mode": "subscribe", "hub.verify_token": "verify-me-42", "hub.challenge": "1158201444"}
    assert answer_handshake(query, verify_token="verify-me-42") == "1158201444"
    assert answer_handshake(query, verify_token="verify-me-43") is None
    assert answer_handshake({**query, "hub.mode": "unsubscribe"}, verify_token="verify-me-42") is None
    assert answer_handshake({"hub.mode": "subscribe", "hub.challenge": "1"}, verify_token="verify-me-42") is None
    no_challenge = {"hub.mode": "subscribe", "hub.verify_token": "verify-me-42"}
    assert answer_handshake(no_challenge, verify_token="verify-me-42") is None
    # No configured token never matches (not even an empty one), and only a plain token is ever echoed back.
    assert answer_handshake({**query, "hub.verify_token": ""}, verify_token="") is None
    for challenge in ("<script>alert(1)</script>", "", "1" * 300, "12 34"):
        assert answer_handshake({**query, "hub.challenge": challenge}, verify_token="verify-me-42") is None


# --- payloads ------------------------------------------------------------------------------------------------------


def test_text_button_and_interactive_messages_are_parsed_with_the_profile_name() -> None:
    body = envelope(
        {
            "contacts": [{"profile": {"name": "Ana"}, "wa_id": "5215512345678"}],
            "messages": [
                {"from": "5215512345678", "id": "wamid.TXT", "timestamp": AT, "type": "text", "text": {"body": "Hola"}},
                {
                    "from": "5215512345678",
                    "id": "wamid.BTN",
                    "timestamp": AT,
                    "type": "button",
                    "button": {"text": "Stop promotions", "payload": "opt_out"},
                    "context": {"from": "15550001111", "id": "wamid.TEMPLATE"},
                },
                {
                    "from": "14155550100",
                    "id": "wamid.INT",
                    "timestamp": AT,
                    "type": "interactive",
                    "interactive": {"type": "button_reply", "button_reply": {"id": "yes", "title": "Yes please"}},
                },
                {
                    "from": "14155550100",
                    "id": "wamid.LST",
                    "timestamp": AT,
                    "type": "interactive",
                    "interactive": {"type": "list_reply", "list_reply": {"id": "plan_pro", "title": "Pro"}},
                },
            ],
        }
    )

    text, button, reply, row = parse_payload(body)

    assert isinstance(text, InboundMessage) and text.event_id == "message:wamid.TXT"
    assert (text.message_type, text.text, text.from_phone, text.profile_name) == (
        "text",
        "Hola",
        "5215512345678",
        "Ana",
    )
    assert (text.waba_id, text.phone_number_id, text.display_phone_number) == (WABA, NUMBER, "15550001111")
    assert text.timestamp == AT_TIME
    assert isinstance(button, InboundMessage) and button.message_type == "button"
    assert (button.text, button.payload, button.context_message_id) == ("Stop promotions", "opt_out", "wamid.TEMPLATE")
    assert isinstance(reply, InboundMessage) and (reply.interactive_type, reply.payload) == ("button_reply", "yes")
    assert reply.text == "Yes please" and reply.profile_name is None  # no contact entry for this sender
    assert isinstance(row, InboundMessage) and (row.text, row.payload) == ("Pro", "plan_pro")


def test_statuses_are_parsed_with_errors_and_stable_event_ids() -> None:
    statuses = [
        {
            "id": "wamid.OUT",
            "status": "sent",
            "timestamp": AT,
            "recipient_id": "14155550100",
            "conversation": {"id": "c1", "expiration_timestamp": "1796688000", "origin": {"type": "utility"}},
            "pricing": {"billable": True, "pricing_model": "PMP", "category": "utility"},
        },
        {"id": "wamid.OUT", "status": "read", "timestamp": AT, "recipient_id": "14155550100"},
        {
            "id": "wamid.LATE",
            "status": "failed",
            "timestamp": AT,
            "recipient_id": "14155550100",
            "errors": [
                {
                    "code": 131047,
                    "title": "Re-engagement message",
                    "message": "Re-engagement message",
                    "error_data": {"details": "More than 24 hours have passed."},
                }
            ],
        },
    ]
    body = envelope({"statuses": statuses})

    sent, read, failed = parse_payload(body)

    assert isinstance(sent, StatusUpdate) and (sent.status, sent.message_id) == ("sent", "wamid.OUT")
    assert (sent.conversation_id, sent.conversation_origin, sent.billable, sent.pricing_category) == (
        "c1",
        "utility",
        True,
        "utility",
    )
    assert sent.conversation_expires_at == datetime(2026, 12, 8, tzinfo=UTC)
    assert isinstance(read, StatusUpdate) and read.status == "read" and read.errors == ()
    assert isinstance(failed, StatusUpdate) and failed.status == "failed"
    (error,) = failed.errors
    assert (error.code, error.title, error.details) == (
        131047,
        "Re-engagement message",
        "More than 24 hours have passed.",
    )
    # One id per message and status: a redelivery of the same payload dedupes, two statuses of one message do not.
    assert [e.event_id for e in parse_payload(body)] == [sent.event_id, read.event_id, failed.event_id]
    assert sent.event_id == "status:wamid.OUT:sent" and sent.event_id != read.event_id


def test_unknown_types_fields_and_statuses_are_kept_as_unsupported() -> None:
    messages = [
        {"from": "14155550100", "id": "wamid.IMG", "timestamp": AT, "type": "image", "image": {"id": "m1"}},
        {
            "from": "14155550100",
            "id": "wamid.UNK",
            "timestamp": AT,
            "type": "unsupported",
            "errors": [{"code": 131051, "title": "Message type unknown"}],
        },
        {
            "from": "14155550100",
            "id": "wamid.NFM",
            "timestamp": AT,
            "type": "interactive",
            "interactive": {"type": "nfm_reply"},
        },
        {"from": "14155550100", "id": "wamid.NOTYPE", "timestamp": AT},
    ]
    statuses = [{"id": "wamid.OUT", "status": "deleted", "timestamp": AT, "recipient_id": "14155550100"}]
    events = parse_payload(envelope({"messages": messages, "statuses": statuses, "errors": [{"code": 131000}]}))

    assert all(isinstance(e, UnsupportedEvent) for e in events)
    image, unknown, flow, untyped, deleted, loose = events
    assert isinstance(image, UnsupportedEvent) and image.reason == "message type 'image'"
    assert (image.event_id, image.message_id, image.from_phone, image.timestamp) == (
        "message:wamid.IMG",
        "wamid.IMG",
        "14155550100",
        AT_TIME,
    )
    assert image.raw["image"] == {"id": "m1"}
    assert isinstance(unknown, UnsupportedEvent) and unknown.errors[0].code == 131051
    assert isinstance(flow, UnsupportedEvent) and flow.reason == "interactive type 'nfm_reply'"
    assert isinstance(untyped, UnsupportedEvent) and untyped.reason == "message type 'missing'"
    assert isinstance(deleted, UnsupportedEvent) and deleted.event_id == "status:wamid.OUT:deleted"
    assert isinstance(loose, UnsupportedEvent) and loose.errors[0].code == 131000

    other = envelope(
        {"event": "APPROVED", "message_template_name": "hello_world"}, field="message_template_status_update"
    )
    (change,) = parse_payload(other)
    assert isinstance(change, UnsupportedEvent) and change.field == "message_template_status_update"
    assert change.event_id == parse_payload(other)[0].event_id and change.event_id.startswith("change:")


def test_malformed_payloads_are_refused_with_the_place_named() -> None:
    good_message = {"from": "14155550100", "id": "wamid.X", "timestamp": AT, "type": "text", "text": {"body": "hi"}}
    cases: list[tuple[bytes, str]] = [
        (b"{not json", "not JSON"),
        (b"[]", "JSON object"),
        (json.dumps({"object": "page", "entry": []}).encode(), "'object'"),
        (json.dumps({"object": "whatsapp_business_account", "entry": {}}).encode(), "entry must be a list"),
        (json.dumps({"object": "whatsapp_business_account", "entry": [{"changes": []}]}).encode(), "entry[0].id"),
        (envelope({"messages": [{**good_message, "id": ""}]}), "messages[0].id"),
        (envelope({"messages": [{**good_message, "timestamp": "yesterday"}]}), "messages[0].timestamp"),
        (envelope({"messages": [{**good_message, "text": "hi"}]}), "messages[0].text"),
        (envelope({"messages": {"0": good_message}}), "value.messages must be a list"),
        (envelope({"statuses": [{"id": "wamid.X", "status": "sent", "timestamp": AT}]}), "statuses[0].recipient_id"),
        (envelope({"statuses": [{"id": "wamid.X", "timestamp": AT, "recipient_id": "1"}]}), "statuses[0].status"),
    ]
    no_metadata = json.loads(envelope({}))
    del no_metadata["entry"][0]["changes"][0]["value"]["metadata"]
    cases.append((json.dumps(no_metadata).encode(), "value.metadata"))
    for body, named in cases:
        with pytest.raises(ValueError, match=r"^webhook ") as caught:
            parse_payload(body)
        assert named in str(caught.value), (named, str(caught.value))
    with pytest.raises(ValueError, match="larger than"):
        parse_payload(b" " * (MAX_BODY_BYTES + 1))
    assert parse_payload(BODY) == ()
