"""The real ``openai`` and ``anthropic`` SDKs against loopback servers that speak their wire formats.

Covers success with token usage, 429 + Retry-After, 529 overload, 5xx, the non-retryable quota/billing and auth
errors, timeouts, a total deadline across attempts, a Retry-After too long to wait for, answers that are not
what the API documents (HTML pages, wrong shapes and types), structured-output parameters, image generation,
and that neither the API key nor the prompt ever reaches an error's client-facing text. Sleeps are recorded,
not slept.
"""

import email.utils
import io
import json
import re
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from PIL import Image
from pydantic import SecretStr, ValidationError

from promptsales.domain_core.content.providers.anthropic_provider import AnthropicTextProvider
from promptsales.domain_core.content.providers.base import (
    ProviderAuthFailed,
    ProviderBadRequest,
    ProviderError,
    ProviderOverloaded,
    ProviderQuotaExhausted,
    ProviderRateLimited,
    ProviderTimeout,
    ProviderUnavailable,
    TextRequest,
)
from promptsales.domain_core.content.providers.factory import ProviderConfig, build_image_provider, build_text_provider
from promptsales.domain_core.content.providers.openai_provider import (
    OpenAIImageProvider,
    OpenAITextProvider,
    nearest_image_size,
)
from promptsales.domain_core.content.providers.retry import parse_duration, retry_after_from_headers, with_retries
from promptsales.domain_core.shared.errors import UpstreamError
from tests.integration import llm_fakes as fakes
from tests.integration.llm_fakes import ANTHROPIC_MESSAGES, COMPAT_CHAT, OPENAI_CHAT, OPENAI_IMAGES, LLMFake

OPENAI_KEY = "sk-proj-TESTKEY-" + "a1b2c3d4e5f6g7h8i9j0" * 2
ANTHROPIC_KEY = "sk-ant-api03-TESTKEY-" + "z9y8x7w6v5u4t3s2r1q0" * 2
PROMPT = "Write launch copy for the Aurora 7 trail shoe, secret codename BLUEHERON-42, for runners in Oslo."
SCHEMA = {
    "type": "object",
    "properties": {"variants": {"type": "array", "items": {"type": "object"}}},
    "required": ["variants"],
    "additionalProperties": False,
}


class RecordingSleep:
    """Stands in for asyncio.sleep: records the waits the policy asks for, waits for none."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest_asyncio.fixture(scope="module")
async def server() -> AsyncIterator[LLMFake]:
    fake = LLMFake(openai_key=OPENAI_KEY, anthropic_key=ANTHROPIC_KEY)
    await fake.start()
    try:
        yield fake
    finally:
        await fake.stop()


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDKs read these; none may re-route or decorate the loopback requests."""
    for name in (
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "OPENAI_ORG_ID",
        "OPENAI_PROJECT_ID",
        "OPENAI_CUSTOM_HEADERS",
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_BASE_URL",
        "ANTHROPIC_CUSTOM_HEADERS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest_asyncio.fixture
async def fake(server: LLMFake) -> AsyncIterator[LLMFake]:
    server.reset()
    yield server
    server.reset()


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


class Providers:
    """Builds providers against the fake and closes them after the test."""

    def __init__(self, fake: LLMFake, sleep: RecordingSleep) -> None:
        self.fake = fake
        self.sleep = sleep
        self.built: list[Any] = []

    def openai(self, *, model: str = "gpt-4.1-mini", key: str = OPENAI_KEY, **kwargs: Any) -> OpenAITextProvider:
        kwargs.setdefault("timeout_s", 5.0)
        provider = OpenAITextProvider(key, model, self.fake.openai_base_url, sleep=self.sleep, **kwargs)
        self.built.append(provider)
        return provider

    def compatible(self, **kwargs: Any) -> OpenAITextProvider:
        provider = OpenAITextProvider(
            "", "llama-3.3-70b", self.fake.compat_base_url, 5.0, name="openai_compatible", sleep=self.sleep, **kwargs
        )
        self.built.append(provider)
        return provider

    def anthropic(
        self, *, model: str = "claude-sonnet-4-5", key: str = ANTHROPIC_KEY, **kwargs: Any
    ) -> AnthropicTextProvider:
        kwargs.setdefault("timeout_s", 5.0)
        provider = AnthropicTextProvider(key, model, self.fake.anthropic_base_url, sleep=self.sleep, **kwargs)
        self.built.append(provider)
        return provider

    def images(self) -> OpenAIImageProvider:
        provider = OpenAIImageProvider(OPENAI_KEY, base_url=self.fake.openai_base_url, timeout_s=5.0, sleep=self.sleep)
        self.built.append(provider)
        return provider


@pytest_asyncio.fixture
async def providers(fake: LLMFake, sleep: RecordingSleep) -> AsyncIterator[Providers]:
    made = Providers(fake, sleep)
    yield made
    for provider in made.built:
        await provider.aclose()


def request(**kwargs: Any) -> TextRequest:
    return TextRequest(system="You are a careful copywriter.", prompt=PROMPT, **kwargs)


def assert_client_safe(error: ProviderError, *secrets: str) -> None:
    """Neither a key nor the prompt in anything a client or a log line would show."""
    shown = [error.public_message(), repr(error), str(error), error.message, error.hint or ""]
    for secret in (OPENAI_KEY, ANTHROPIC_KEY, PROMPT, "BLUEHERON", *secrets):
        for text in shown:
            assert secret not in text
    assert isinstance(error, UpstreamError)
    assert error.__cause__ is None  # the SDK error (raw body, request headers) is not chained


# --------------------------------------------------------------------------------------------- success


async def test_openai_success_records_token_usage(providers: Providers, fake: LLMFake) -> None:
    result = await providers.openai().complete(request(max_output_tokens=321, temperature=0.4))

    assert (result.text, result.provider, result.model) == (fake.text, "openai", "gpt-4.1-mini")
    assert (result.input_tokens, result.output_tokens) == (42, 7)
    [sent] = fake.seen(OPENAI_CHAT)
    assert sent.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert sent.json["messages"] == [
        {"role": "system", "content": "You are a careful copywriter."},
        {"role": "user", "content": PROMPT},
    ]
    assert (sent.json["max_completion_tokens"], sent.json["temperature"]) == (321, 0.4)
    assert "max_tokens" not in sent.json and "response_format" not in sent.json
    assert sent.headers.get("x-stainless-retry-count") == "0"
    assert providers.sleep.calls == []


async def test_openai_reasoning_models_get_no_temperature(providers: Providers, fake: LLMFake) -> None:
    await providers.openai(model="gpt-5-mini").complete(request())

    [sent] = fake.seen(OPENAI_CHAT)
    assert "temperature" not in sent.json and sent.json["max_completion_tokens"] == 800


async def test_openai_compatible_server_at_another_base_path(providers: Providers, fake: LLMFake) -> None:
    result = await providers.compatible().complete(request(max_output_tokens=200))

    assert (result.provider, result.model, result.input_tokens, result.output_tokens) == (
        "openai_compatible",
        "llama-3.3-70b",
        42,
        7,
    )
    [sent] = fake.seen(COMPAT_CHAT)
    assert sent.path == "/compat/v1/chat/completions"
    assert (sent.json["max_tokens"], sent.json["temperature"]) == (200, 0.7)
    assert "max_completion_tokens" not in sent.json
    assert fake.seen(OPENAI_CHAT) == []


async def test_anthropic_success_records_token_usage(providers: Providers, fake: LLMFake) -> None:
    result = await providers.anthropic().complete(request(max_output_tokens=555))

    assert (result.text, result.provider, result.model) == (fake.text, "anthropic", "claude-sonnet-4-5")
    assert (result.input_tokens, result.output_tokens) == (31, 9)
    [sent] = fake.seen(ANTHROPIC_MESSAGES)
    # SDK 2.15 sends the key as a bearer token (older SDKs: x-api-key) and pins a dated API version.
    assert ANTHROPIC_KEY in (sent.headers.get("x-api-key"), sent.headers.get("authorization", "")[7:])
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", sent.headers["anthropic-version"])
    assert sent.json["system"] == "You are a careful copywriter."
    assert sent.json["messages"] == [{"role": "user", "content": PROMPT}]
    assert sent.json["max_tokens"] == 555 and sent.json["model"] == "claude-sonnet-4-5"
    assert "temperature" not in sent.json and "output_config" not in sent.json


# ------------------------------------------------------------------------------------- structured output


async def test_openai_json_schema_asks_for_strict_structured_output(providers: Providers, fake: LLMFake) -> None:
    result = await providers.openai().complete(request(json_schema=SCHEMA, schema_name="copy_variants"))

    [sent] = fake.seen(OPENAI_CHAT)
    assert sent.json["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "copy_variants", "schema": SCHEMA, "strict": True},
    }
    assert json.loads(result.text) == {"variants": [{"headline": "Fresh"}]}


async def test_anthropic_json_schema_uses_output_config_format(providers: Providers, fake: LLMFake) -> None:
    result = await providers.anthropic().complete(request(json_schema=SCHEMA))

    [sent] = fake.seen(ANTHROPIC_MESSAGES)
    assert sent.json["output_config"] == {"format": {"type": "json_schema", "schema": SCHEMA}}
    assert sent.json["messages"][-1]["role"] == "user"  # no prefill
    assert json.loads(result.text) == {"variants": [{"headline": "Fresh"}]}


# ------------------------------------------------------------------------------------------ retryable


async def test_openai_429_with_retry_after_waits_exactly_that_long(providers: Providers, fake: LLMFake) -> None:
    fake.script(OPENAI_CHAT, fakes.openai_rate_limited(retry_after="1"))

    result = await providers.openai().complete(request())

    assert result.output_tokens == 7
    assert providers.sleep.calls == [1.0]
    assert len(fake.seen(OPENAI_CHAT)) == 2


async def test_openai_429_without_retry_after_uses_the_exhausted_limits_reset(
    providers: Providers, fake: LLMFake
) -> None:
    fake.script(OPENAI_CHAT, fakes.openai_rate_limited(retry_after=None))  # remaining-requests 0, reset "6m0s"

    with pytest.raises(ProviderRateLimited) as caught:
        await providers.openai().complete(request())

    assert caught.value.retry_after_s == 360.0 and caught.value.retryable
    assert providers.sleep.calls == [] and len(fake.seen(OPENAI_CHAT)) == 1


async def test_anthropic_429_with_retry_after(providers: Providers, fake: LLMFake) -> None:
    fake.script(ANTHROPIC_MESSAGES, fakes.anthropic_rate_limited("2"))

    result = await providers.anthropic().complete(request())

    assert result.input_tokens == 31
    assert providers.sleep.calls == [2.0]


async def test_anthropic_529_twice_then_success_backs_off_within_bounds(providers: Providers, fake: LLMFake) -> None:
    fake.script(ANTHROPIC_MESSAGES, fakes.anthropic_overloaded(), fakes.anthropic_overloaded())

    result = await providers.anthropic().complete(request())

    assert result.output_tokens == 9
    assert len(fake.seen(ANTHROPIC_MESSAGES)) == 3
    first, second = providers.sleep.calls
    assert 0.25 <= first <= 0.5 and 0.5 <= second <= 1.0  # base 0.5 s, doubling, equal jitter


async def test_anthropic_529_until_the_budget_is_spent(providers: Providers, fake: LLMFake) -> None:
    fake.script(ANTHROPIC_MESSAGES, *[fakes.anthropic_overloaded()] * 3)

    with pytest.raises(ProviderOverloaded) as caught:
        await providers.anthropic().complete(request())

    error = caught.value
    assert (error.status, error.error_type, error.attempts, error.retryable) == (529, "overloaded_error", 3, True)
    assert "Gave up after 3 attempts" in error.public_message()
    assert len(providers.sleep.calls) == 2
    assert_client_safe(error)


async def test_openai_500_then_success_and_503_overloaded(providers: Providers, fake: LLMFake) -> None:
    fake.script(OPENAI_CHAT, fakes.openai_server_error())
    assert (await providers.openai().complete(request())).input_tokens == 42
    assert len(providers.sleep.calls) == 1

    fake.script(OPENAI_CHAT, fakes.openai_overloaded(), fakes.openai_overloaded())
    with pytest.raises(ProviderOverloaded) as caught:
        await providers.openai(max_attempts=2).complete(request())
    assert (caught.value.status, caught.value.error_code) == (503, "server_is_overloaded")


async def test_retry_after_beyond_the_cap_is_raised_at_once(providers: Providers, fake: LLMFake) -> None:
    fake.script(OPENAI_CHAT, fakes.openai_rate_limited(retry_after="120"))

    with pytest.raises(ProviderRateLimited) as caught:
        await providers.openai(max_retry_after_s=30.0).complete(request())

    error = caught.value
    assert (error.retry_after_s, error.attempts, error.status) == (120.0, 1, 429)
    assert providers.sleep.calls == [] and len(fake.seen(OPENAI_CHAT)) == 1
    assert "wait 120 s" in error.public_message()
    assert_client_safe(error)


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_timeout_after_max_attempts(providers: Providers, fake: LLMFake, kind: str) -> None:
    route = OPENAI_CHAT if kind == "openai" else ANTHROPIC_MESSAGES
    fake.script(route, *[fakes.slow(2.0)] * 3)
    build = providers.openai if kind == "openai" else providers.anthropic

    with pytest.raises(ProviderTimeout) as caught:
        await build(timeout_s=0.3, max_attempts=3).complete(request())

    error = caught.value
    assert (error.attempts, error.retryable, error.status) == (3, True, None)
    assert "0.3 s" in error.public_message()
    assert len(fake.seen(route)) == 3 and len(providers.sleep.calls) == 2
    assert_client_safe(error)


async def test_connection_refused_is_unavailable(providers: Providers, sleep: RecordingSleep) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    provider = OpenAITextProvider(OPENAI_KEY, "gpt-4.1-mini", f"http://127.0.0.1:{port}/v1", 1.0, 2, sleep=sleep)
    providers.built.append(provider)

    with pytest.raises(ProviderUnavailable) as caught:
        await provider.complete(request())

    assert caught.value.attempts == 2 and caught.value.status is None
    assert_client_safe(caught.value)


# -------------------------------------------------------------------------------------- not retryable


async def test_openai_insufficient_quota_is_not_retried(providers: Providers, fake: LLMFake) -> None:
    fake.script(OPENAI_CHAT, fakes.openai_insufficient_quota())

    with pytest.raises(ProviderQuotaExhausted) as caught:
        await providers.openai().complete(request())

    error = caught.value
    assert len(fake.seen(OPENAI_CHAT)) == 1 and providers.sleep.calls == []
    assert not error.retryable and error.retry_after_s is None
    assert (error.status, error.error_code, error.provider) == (429, "insufficient_quota", "openai")
    assert "billing" in error.public_message() and "retrying will not help" in error.public_message()
    assert_client_safe(error)


async def test_anthropic_402_billing_error_is_quota(providers: Providers, fake: LLMFake) -> None:
    fake.script(ANTHROPIC_MESSAGES, fakes.anthropic_billing())

    with pytest.raises(ProviderQuotaExhausted) as caught:
        await providers.anthropic().complete(request())

    assert len(fake.seen(ANTHROPIC_MESSAGES)) == 1 and not caught.value.retryable
    assert "billing" in caught.value.public_message()


async def test_openai_401_is_auth_failed_and_never_echoes_the_key(providers: Providers, fake: LLMFake) -> None:
    wrong = "sk-proj-WRONGKEY-" + "q" * 40

    with pytest.raises(ProviderAuthFailed) as caught:
        await providers.openai(key=wrong).complete(request())

    error = caught.value
    assert len(fake.seen(OPENAI_CHAT)) == 1 and providers.sleep.calls == []
    assert (error.status, error.retryable) == (401, False)
    assert "check the api key configured for this tenant/deployment" in error.public_message().lower()
    assert_client_safe(error, wrong, "WRONGKEY")


async def test_anthropic_401_is_auth_failed(providers: Providers, fake: LLMFake) -> None:
    wrong = "sk-ant-api03-WRONG-" + "k" * 40

    with pytest.raises(ProviderAuthFailed) as caught:
        await providers.anthropic(key=wrong).complete(request())

    assert len(fake.seen(ANTHROPIC_MESSAGES)) == 1 and caught.value.error_type == "authentication_error"
    assert_client_safe(caught.value, wrong)


async def test_bad_request_shows_the_providers_words_but_not_our_prompt(providers: Providers, fake: LLMFake) -> None:
    echo = f"Invalid 'messages[1].content': {PROMPT} is not allowed with model gpt-4.1-mini."
    fake.script(OPENAI_CHAT, fakes.openai_error(400, type_="invalid_request_error", code="invalid_value", message=echo))

    with pytest.raises(ProviderBadRequest) as caught:
        await providers.openai().complete(request())

    error = caught.value
    assert len(fake.seen(OPENAI_CHAT)) == 1 and not error.retryable
    assert "invalid_value" in error.public_message() and "is not allowed with model" in error.public_message()
    assert_client_safe(error)


async def test_anthropic_404_model_is_bad_request(providers: Providers, fake: LLMFake) -> None:
    fake.script(ANTHROPIC_MESSAGES, fakes.anthropic_error(404, "not_found_error", "model: claude-nope"))

    with pytest.raises(ProviderBadRequest) as caught:
        await providers.anthropic(model="claude-nope").complete(request())

    assert (caught.value.status, caught.value.error_type) == (404, "not_found_error")
    assert "model: claude-nope" in caught.value.public_message()


# ------------------------------------------------------------------------------- answers the SDK does not expect

OPENAI_MALFORMED = [
    (fakes.malformed({"choices": "x"}), "choices is not a list"),
    (fakes.html_page(), "an HTML page instead of a chat completion"),
    (fakes.malformed({"choices": []}), "no choice in choices"),
    (fakes.malformed({"choices": [{"message": {"content": 5}}]}), "choices[0].message.content is not text"),
    (fakes.malformed({"choices": [{"message": "hello"}]}), "choices[0].message is not a message object"),
    (fakes.malformed({"choices": [{"message": {"role": "assistant"}}]}), "choices[0].message.content is missing"),
    (
        fakes.malformed({"choices": [{"message": {"content": "ok"}}], "usage": {"prompt_tokens": "many"}}),
        "usage.prompt_tokens is not a token count",
    ),
    (fakes.malformed([1, 2]), "a JSON list instead of a chat completion"),
    (fakes.Reply(raw="{not json"), "a body that is not valid JSON"),
]
ANTHROPIC_MALFORMED = [
    (fakes.malformed({"content": "x", "usage": {"input_tokens": 1, "output_tokens": 1}}), "content is not a list"),
    (fakes.html_page(), "an HTML page instead of a message"),
    (fakes.malformed({"content": [{"type": "text", "text": 7}]}), "a text block has no text"),
    (fakes.malformed({"content": [], "usage": {"input_tokens": 1, "output_tokens": 1}}), "no text block"),
    (fakes.malformed({"content": [{"type": "text", "text": "ok"}]}), "usage is missing"),
    (
        fakes.malformed({"content": [{"type": "text", "text": "ok"}], "usage": {"input_tokens": 1.5}}),
        "usage.input_tokens is not a token count",
    ),
    (fakes.Reply(raw="{not json"), "a body that is not valid JSON"),
]


@pytest.mark.parametrize(("reply", "problem"), OPENAI_MALFORMED, ids=[p for _, p in OPENAI_MALFORMED])
async def test_openai_answers_the_sdk_does_not_expect_are_upstream_errors(
    providers: Providers, fake: LLMFake, reply: fakes.Reply, problem: str
) -> None:
    fake.script(OPENAI_CHAT, reply)

    with pytest.raises(ProviderError) as caught:
        await providers.openai().complete(request())

    error = caught.value
    message = error.public_message()
    assert message.startswith("openai sent an answer its API does not document") and problem in message, message
    assert not error.retryable and len(fake.seen(OPENAI_CHAT)) == 1
    assert_client_safe(error)


@pytest.mark.parametrize(("reply", "problem"), ANTHROPIC_MALFORMED, ids=[p for _, p in ANTHROPIC_MALFORMED])
async def test_anthropic_answers_the_sdk_does_not_expect_are_upstream_errors(
    providers: Providers, fake: LLMFake, reply: fakes.Reply, problem: str
) -> None:
    fake.script(ANTHROPIC_MESSAGES, reply)

    with pytest.raises(ProviderError) as caught:
        await providers.anthropic().complete(request())

    message = caught.value.public_message()
    assert message.startswith("anthropic sent an answer its API does not document") and problem in message, message
    assert_client_safe(caught.value)


async def test_image_answers_the_sdk_does_not_expect_are_upstream_errors(providers: Providers, fake: LLMFake) -> None:
    for reply, problem in (
        (fakes.html_page(), "an HTML page instead of an images response"),
        (fakes.malformed({"data": "x"}), "no image in data"),
        (fakes.malformed({"data": [{"b64_json": "not base64!"}]}), "not valid base64"),
    ):
        fake.script(OPENAI_IMAGES, reply)
        with pytest.raises(ProviderError) as caught:
            await providers.images().generate_image("A shoe", width=1080, height=1080)
        assert problem in caught.value.public_message()


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
async def test_a_hanging_provider_is_bounded_by_the_total_deadline(
    providers: Providers, fake: LLMFake, kind: str
) -> None:
    route = OPENAI_CHAT if kind == "openai" else ANTHROPIC_MESSAGES
    fake.script(route, *[fakes.slow(5.0)] * 3)  # each attempt would wait its full 2 s timeout
    build = providers.openai if kind == "openai" else providers.anthropic

    started = time.monotonic()
    with pytest.raises(ProviderTimeout) as caught:
        await build(timeout_s=2.0, max_attempts=3, total_timeout_s=0.4).complete(request())

    assert time.monotonic() - started < 1.5  # not 3 attempts x 2 s
    message = caught.value.public_message()
    assert f"{kind} did not finish within this call's 0.4 s deadline" in message, message
    assert len(fake.seen(route)) == 1
    assert_client_safe(caught.value)


async def test_the_deadline_covers_retries_and_a_wait_past_it_is_not_started(
    providers: Providers, fake: LLMFake
) -> None:
    fake.script(OPENAI_CHAT, fakes.openai_rate_limited(retry_after="20"))

    with pytest.raises(ProviderRateLimited) as caught:
        await providers.openai(total_timeout_s=5.0, max_retry_after_s=30.0).complete(request())

    assert providers.sleep.calls == [] and caught.value.retry_after_s == 20.0  # 20 s would end past the 5 s deadline


# ---------------------------------------------------------------------------------------------- images


async def test_image_generation_returns_png_bytes(providers: Providers, fake: LLMFake) -> None:
    result = await providers.images().generate_image("A red trail shoe on wet rock", width=1200, height=628)

    assert (result.provider, result.model) == ("openai", "gpt-image-2")
    with Image.open(io.BytesIO(result.png)) as image:
        assert image.format == "PNG" and image.size == (12, 8)  # the fake scales 1536x1024 down by 128
    [sent] = fake.seen(OPENAI_IMAGES)
    assert sent.json["size"] == "1536x1024" and sent.json["output_format"] == "png" and sent.json["n"] == 1
    assert "response_format" not in sent.json  # unsupported by GPT Image models, which always answer base64


async def test_image_errors_map_like_text(providers: Providers, fake: LLMFake) -> None:
    fake.script(OPENAI_IMAGES, fakes.openai_insufficient_quota())

    with pytest.raises(ProviderQuotaExhausted):
        await providers.images().generate_image("A shoe", width=1080, height=1080)
    assert len(fake.seen(OPENAI_IMAGES)) == 1


async def test_openai_schema_name_is_made_acceptable(providers: Providers, fake: LLMFake) -> None:
    await providers.openai().complete(request(json_schema=SCHEMA, schema_name="copy variants/v2"))

    assert fake.seen(OPENAI_CHAT)[0].json["response_format"]["json_schema"]["name"] == "copy_variants_v2"


def test_nearest_image_size() -> None:
    assert nearest_image_size("gpt-image-2", 1080, 1080) == (1024, 1024)
    assert nearest_image_size("gpt-image-2", 1080, 1920) == (1024, 1536)
    assert nearest_image_size("gpt-image-1.5", 1200, 628) == (1536, 1024)
    assert nearest_image_size("dall-e-3", 1920, 1080) == (1792, 1024)


# --------------------------------------------------------------------------------------------- factory


async def test_factory_builds_each_kind(fake: LLMFake, sleep: RecordingSleep) -> None:
    config = ProviderConfig(
        kind="openai_compatible", model="qwen3", api_key=SecretStr(""), base_url=fake.compat_base_url
    )
    provider = build_text_provider(config, sleep=sleep)
    try:
        assert (provider.name, provider.model) == ("openai_compatible", "qwen3")
        assert (await provider.complete(request())).provider == "openai_compatible"
        assert fake.seen(COMPAT_CHAT)[0].headers["authorization"] == "Bearer not-needed"
    finally:
        await provider.aclose()

    anthropic = ProviderConfig(kind="anthropic", model="claude-haiku-4-5", api_key=SecretStr(ANTHROPIC_KEY))
    built = build_text_provider(anthropic)
    assert isinstance(built, AnthropicTextProvider)
    await built.aclose()
    assert build_image_provider(anthropic) is None
    assert build_image_provider(config) is None
    image = build_image_provider(ProviderConfig(kind="openai", model="gpt-image-2", api_key=SecretStr(OPENAI_KEY)))
    assert isinstance(image, OpenAIImageProvider)
    await image.aclose()
    assert ANTHROPIC_KEY not in repr(anthropic) and ANTHROPIC_KEY not in repr(built)


@pytest.mark.parametrize(
    ("kind", "base_url", "key", "problem"),
    [
        ("openai_compatible", None, "", "needs base_url"),
        ("openai", "ftp://llm.example.com/v1", "sk-x", "http(s) URL"),
        ("openai", "https://user:pw@llm.example.com/v1", "sk-x", "credentials"),
        ("openai", "https:///v1", "sk-x", "http(s) URL"),
        ("anthropic", None, " ", "needs an API key"),
    ],
)
def test_config_validation(kind: str, base_url: str | None, key: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(problem)):
        ProviderConfig(kind=kind, model="m", api_key=SecretStr(key), base_url=base_url)


def test_config_normalises_the_base_url() -> None:
    config = ProviderConfig(kind="openai", model="m", api_key=SecretStr("k"), base_url="https://gw.example.com/v1/")
    assert config.base_url == "https://gw.example.com/v1"


# ---------------------------------------------------------------------------------------- retry policy


def test_retry_after_parsing() -> None:
    assert retry_after_from_headers({"retry-after": "7"}) == 7.0
    assert retry_after_from_headers({"retry-after-ms": "250", "retry-after": "7"}) == 0.25
    date = email.utils.formatdate(1_000_030.0, usegmt=True)
    assert retry_after_from_headers({"retry-after": date}, now=lambda: 1_000_000.0) == 30.0
    assert retry_after_from_headers({"retry-after": "soon"}) is None
    resets = {"x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "20ms"}
    assert retry_after_from_headers({**resets, "x-ratelimit-reset-requests": "6m0s"}, rate_limit_resets=True) == 0.02
    assert retry_after_from_headers(resets) is None  # only asked for on OpenAI 429s
    assert parse_duration("6m0s") == 360.0 and parse_duration("1h2m3.5s") == 3723.5
    assert parse_duration("1.5s") == 1.5 and parse_duration("6 minutes") is None


async def test_with_retries_retries_only_retryable_provider_errors() -> None:
    sleep = RecordingSleep()
    calls = 0

    async def flaky() -> str:
        nonlocal calls
        calls += 1
        if calls < 3:
            raise ProviderUnavailable("down", provider="openai", status=502)
        return "ok"

    assert await with_retries(flaky, max_attempts=3, base_delay_s=1.0, sleep=sleep, jitter=lambda: 0.0) == "ok"
    assert sleep.calls == [0.5, 1.0]  # deterministic with a fixed jitter source

    async def broken() -> str:
        raise ValueError("a bug, not an outage")

    with pytest.raises(ValueError):
        await with_retries(broken, sleep=sleep)
    assert len(sleep.calls) == 2


def test_request_repr_leaves_the_prompt_out() -> None:
    assert PROMPT not in repr(request())
