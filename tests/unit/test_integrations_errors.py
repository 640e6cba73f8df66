"""Typed connector errors: the DomainError family, actionable text, platform fields read, secrets redacted."""

import pytest

from promptsales.domain_core.integrations.model.errors import (
    AuthExpired,
    ConnectorError,
    ErrorBody,
    PermissionMissing,
    PlatformDown,
    PlatformValidationError,
    RateLimited,
    duration_seconds,
    platform_text,
    redact,
    tiktok_status,
)
from promptsales.domain_core.shared.errors import DomainError, UpstreamError


def test_every_kind_is_an_upstream_domain_error_with_its_own_code_and_a_hint() -> None:
    errors: list[ConnectorError] = [
        AuthExpired(platform="HubSpot"),
        PermissionMissing(platform="Meta Marketing API"),
        RateLimited(platform="Zendesk", retry_after_seconds=2.2),
        PlatformValidationError(platform="Mailchimp", platform_field="email_address"),
        PlatformDown(platform="Canva", status=503, attempts=4),
    ]
    assert len({error.code for error in errors}) == len(errors)
    for error in errors:
        assert isinstance(error, UpstreamError) and isinstance(error, DomainError)
        text = error.public_message()
        assert text.startswith(error.platform + ":")
        assert error.hint and error.hint in text


def test_messages_say_what_to_do() -> None:
    assert "Reconnect" in AuthExpired(platform="HubSpot").public_message()
    assert "scope" in PermissionMissing(platform="HubSpot").public_message()
    assert "Retry in 3 s" in RateLimited(platform="Zendesk", retry_after_seconds=2.2).public_message()
    assert "gave no wait time" in RateLimited(platform="TikTok", retry_after_seconds=None).public_message()
    budget = RateLimited(platform="HubSpot", retry_after_seconds=0.2, budget=True).public_message()
    assert "request budget" in budget and "Retry in 1 s" in budget
    down = PlatformDown(platform="Canva", attempts=1, deadline_hit=True, may_have_applied=True).public_message()
    assert "deadline" in down and "may have been applied" in down


def test_validation_error_names_the_platform_field() -> None:
    error = PlatformValidationError(platform="Mailchimp", platform_field="merge_fields.FNAME", detail="too long")
    assert error.field == "merge_fields.FNAME" and error.platform_field == "merge_fields.FNAME"
    assert "'merge_fields.FNAME'" in error.public_message()
    assert "Mailchimp said: too long" in error.public_message()


@pytest.mark.parametrize(
    ("body", "message", "field", "code"),
    [
        (
            [{"message": "No such column 'Emial'", "errorCode": "INVALID_FIELD", "fields": ["Emial"]}],
            "No such column 'Emial'",
            "Emial",
            "INVALID_FIELD",
        ),
        (
            {
                "status": "error",
                "message": "Property values were not valid",
                "category": "VALIDATION_ERROR",
                "errors": [{"message": "bad email", "code": "INVALID_EMAIL", "in": "email"}],
            },
            "Property values were not valid",
            "email",
            "VALIDATION_ERROR",
        ),
        (
            {
                "error": "RecordInvalid",
                "description": "Record validation errors",
                "details": {"requester": [{"description": "Requester: is invalid"}]},
            },
            "Record validation errors",
            "requester",
            "RecordInvalid",
        ),
        (
            {
                "type": "https://mailchimp.com/developer/…",
                "title": "Invalid Resource",
                "status": 400,
                "detail": "The resource submitted could not be validated.",
                "errors": [{"field": "email_address", "message": "This value should be a valid email."}],
            },
            "The resource submitted could not be validated.",
            "email_address",
            None,
        ),
        (
            {
                "error": {
                    "message": "Invalid parameter",
                    "type": "OAuthException",
                    "code": 100,
                    "error_user_msg": "The daily budget is too low.",
                }
            },
            "The daily budget is too low.",
            None,
            "100",
        ),
        (
            {
                "error": {
                    "code": 400,
                    "message": "Request contains an invalid argument.",
                    "status": "INVALID_ARGUMENT",
                    "details": [
                        {
                            "@type": "type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure",
                            "errors": [
                                {
                                    "errorCode": {"fieldError": "REQUIRED"},
                                    "message": "missing",
                                    "location": {
                                        "fieldPathElements": [
                                            {"fieldName": "operations", "index": 0},
                                            {"fieldName": "create"},
                                            {"fieldName": "contains_eu_political_advertising"},
                                        ]
                                    },
                                }
                            ],
                        }
                    ],
                }
            },
            "Request contains an invalid argument.",
            "operations.create.contains_eu_political_advertising",
            "400",
        ),
        (
            {"code": 40002, "message": "adgroup_name is required", "request_id": "r1", "data": {}},
            "adgroup_name is required",
            None,
            "40002",
        ),
        ({"error_code": "validation_error", "message": "prompt too long"}, "prompt too long", None, "validation_error"),
        ("plain", None, None, None),
        (None, None, None, None),
        ([], None, None, None),
    ],
)
def test_error_bodies_of_each_platform(body: object, message: str | None, field: str | None, code: str | None) -> None:
    read = ErrorBody.read(body)
    assert (read.message, read.field, read.code) == (message, field, code)


def test_a_bare_error_sentence_is_the_message_and_a_bare_error_word_the_code() -> None:
    assert ErrorBody.read({"error": "Couldn't authenticate you"}).message == "Couldn't authenticate you"
    assert ErrorBody.read({"error": "Couldn't authenticate you"}).code is None
    assert ErrorBody.read({"error": "InvalidEndpoint"}).code == "InvalidEndpoint"
    assert ErrorBody.read({"error": "InvalidEndpoint"}).message is None


@pytest.mark.parametrize(
    "text",
    [
        "Authorization: Bearer abcdef123456789",
        "GET /v25.0/me?access_token=EAAGm0PX4ZCpsBAKZC0sOMe&fields=id",
        '{"api_key": "0123456789abcdef-us6"}',
        "token pat-na1-11112222-3333-4444-5555-666677778888 is invalid",
        "client_secret=s3cr3tvalue&grant_type=refresh_token",
    ],
)
def test_credential_shaped_text_is_redacted(text: str) -> None:
    cleaned = redact(text)
    assert "[redacted]" in cleaned
    for secret in ("abcdef123456789", "EAAGm0PX4ZCpsBAKZC0sOMe", "0123456789abcdef-us6", "11112222", "s3cr3tvalue"):
        assert secret not in cleaned


def test_known_secret_values_are_redacted_anywhere_and_text_is_bounded() -> None:
    assert redact("we got zz-TENANT-KEY-99 from you", ["zz-TENANT-KEY-99"]) == "we got [redacted] from you"
    long = platform_text("x " * 500)
    assert long is not None and len(long) <= 200 and long.endswith("…")
    assert platform_text("  ") is None
    assert platform_text("line one\n  line two") == "line one line two"


@pytest.mark.parametrize(
    "text",
    [
        "Basic authentication failed for this plan",
        "Upgrade to the Basic plan",
        "error code: 40002 (invalid parameter)",
        'OAuthException "code": 100',
        "The token has expired",
    ],
)
def test_prose_that_only_mentions_credentials_stays_readable(text: str) -> None:
    assert redact(text) == text


def test_an_authorization_code_in_a_query_string_is_redacted() -> None:
    assert redact("/oauth/callback?code=Xy12abCD34&state=s1") == "/oauth/callback?code=[redacted]&state=s1"
    assert redact("Authorization: Basic dXNlcjpwYXNzd29yZA==") == "Authorization: Basic [redacted]"


def _google_quota(details: list[dict[str, object]]) -> dict[str, object]:
    return {
        "error": {
            "code": 429,
            "message": "Resource has been exhausted",
            "status": "RESOURCE_EXHAUSTED",
            "details": details,
        }
    }


@pytest.mark.parametrize(
    ("body", "wait"),
    [
        (
            _google_quota(
                [
                    {
                        "@type": "type.googleapis.com/google.ads.googleads.v26.errors.GoogleAdsFailure",
                        "errors": [
                            {
                                "errorCode": {"quotaError": "RESOURCE_EXHAUSTED"},
                                "message": "Too many requests.",
                                "details": {"quotaErrorDetails": {"rateScope": "DEVELOPER", "retryDelay": "30s"}},
                            }
                        ],
                    }
                ]
            ),
            30.0,
        ),
        (_google_quota([{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1.5s"}]), 1.5),
        (_google_quota([{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "soon"}]), None),
        (_google_quota([]), None),
        ({"error": {"message": "x", "code": 613}}, None),
    ],
)
def test_a_wait_in_googles_error_body_is_read(body: object, wait: float | None) -> None:
    assert ErrorBody.read(body).retry_after == wait


@pytest.mark.parametrize(
    "error_data",
    [
        {"blame_field_specs": [["daily_budget"]]},
        '{"blame_field_specs": [["daily_budget"]]}',
        {"blame_field_specs": ["daily_budget"]},
    ],
)
def test_graph_names_the_blamed_field(error_data: object) -> None:
    body = {"error": {"message": "(#100) Invalid parameter", "code": 100, "error_data": error_data}}
    assert ErrorBody.read(body).field == "daily_budget"


def test_graph_without_blame_or_with_a_broken_one_names_no_field() -> None:
    for error_data in (None, "not json", {"blame_field_specs": [[]]}, {"other": 1}):
        assert ErrorBody.read({"error": {"message": "x", "code": 100, "error_data": error_data}}).field is None


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30.0), ("0.25s", 0.25), ("7s ", 7.0), ("30", None), ("-1s", None)]
)
def test_protobuf_durations(text: str, seconds: float | None) -> None:
    assert duration_seconds(text) == seconds


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"code": 0, "message": "OK", "data": {}}, None),
        ({"code": 40100, "message": "Too many requests"}, 429),
        ({"code": 40105, "message": "Access token invalid"}, 401),
        ({"code": 40104, "message": "Access token is null"}, 401),
        ({"code": 40002, "message": "budget: too low"}, 400),
        ({"code": 40001, "message": "campaign_name: missing"}, 400),
        ({"code": 40004, "message": "No permission"}, 403),
        ({"code": 41234, "message": "something else"}, 400),
        ({"code": 50000, "message": "System error"}, 503),
        ({"code": 51001, "message": "image failed"}, 503),
        ({"code": "40100"}, None),  # not TikTok's shape: left alone
        ({"data": {}}, None),
        ([], None),
        (None, None),
    ],
)
def test_tiktok_envelope_codes_mean_http_statuses(body: object, status: int | None) -> None:
    assert tiktok_status(body) == status
