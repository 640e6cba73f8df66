"""Reading a provider's successful answer defensively: what we use must be there, with the right JSON types.

The SDK clients run without strict response validation (OpenAI-compatible servers leave out fields we never
read), so a 200 answer can be anything: an HTML page (the SDK returns it as a string), ``{"choices": "x"}``
(the SDK builds a model holding a string), a number where a text belongs. Each reader checks exactly the parts
it uses and raises :func:`~.base.unexpected_answer` naming the provider and what was wrong; nothing else
(``AttributeError``, ``TypeError``) can escape to become an internal error.
"""

from typing import Any

from promptsales.domain_core.content.providers.base import ProviderError, TextResult, refused, unexpected_answer


def _kind_of(value: Any) -> str:
    """How an answer that is not the expected object looks, in a few words."""
    if isinstance(value, str):
        head = value.lstrip()[:15].lower()
        return "an HTML page" if head.startswith(("<!doctype", "<html")) else "text that is not JSON"
    if isinstance(value, list):
        return "a JSON list"
    return f"a JSON {type(value).__name__}"


def _tokens(usage: Any, name: str, provider: str, *, optional: bool = False) -> int:
    value = getattr(usage, name, None) if usage is not None else None
    if value is None and (optional or usage is None):
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise unexpected_answer(provider, f"usage.{name} is not a token count")
    return value


def _model(value: Any, fallback: str) -> str:
    return value if isinstance(value, str) and value else fallback


def openai_text(completion: Any, *, provider: str, model: str, expected_type: type) -> TextResult:
    """The text and token usage of a chat completion."""
    if not isinstance(completion, expected_type):
        raise unexpected_answer(provider, f"{_kind_of(completion)} instead of a chat completion")
    choices = getattr(completion, "choices", None)
    if not isinstance(choices, list):
        raise unexpected_answer(provider, "choices is not a list")
    if not choices:
        raise unexpected_answer(provider, "no choice in choices")
    message = getattr(choices[0], "message", None)
    content = getattr(message, "content", None) if message is not None else None
    refusal = getattr(message, "refusal", None) if message is not None else None
    if message is None or isinstance(message, str | int | float | list | dict):
        raise unexpected_answer(provider, "choices[0].message is not a message object")
    if content is None and isinstance(refusal, str) and refusal:
        raise refused(provider)
    if content is None:
        raise unexpected_answer(provider, "choices[0].message.content is missing")
    if not isinstance(content, str):
        raise unexpected_answer(provider, "choices[0].message.content is not text")
    usage = getattr(completion, "usage", None)
    return TextResult(
        text=content,
        provider=provider,
        model=_model(getattr(completion, "model", None), model),
        input_tokens=_tokens(usage, "prompt_tokens", provider),
        output_tokens=_tokens(usage, "completion_tokens", provider),
    )


def anthropic_text(message: Any, *, provider: str, model: str, expected_type: type) -> TextResult:
    """The text and token usage of a Messages API answer (prompt-cache reads and writes count as input)."""
    if not isinstance(message, expected_type):
        raise unexpected_answer(provider, f"{_kind_of(message)} instead of a message")
    if getattr(message, "stop_reason", None) == "refusal":
        raise refused(provider)
    content = getattr(message, "content", None)
    if not isinstance(content, list):
        raise unexpected_answer(provider, "content is not a list of blocks")
    texts = []
    for block in content:
        if getattr(block, "type", None) == "text":
            text = getattr(block, "text", None)
            if not isinstance(text, str):
                raise unexpected_answer(provider, "a text block has no text")
            texts.append(text)
    if not texts:
        raise unexpected_answer(provider, "no text block in content")
    usage = getattr(message, "usage", None)
    if usage is None:
        raise unexpected_answer(provider, "usage is missing")
    cached = _tokens(usage, "cache_creation_input_tokens", provider, optional=True) + _tokens(
        usage, "cache_read_input_tokens", provider, optional=True
    )
    return TextResult(
        text="".join(texts),
        provider=provider,
        model=_model(getattr(message, "model", None), model),
        input_tokens=_tokens(usage, "input_tokens", provider) + cached,
        output_tokens=_tokens(usage, "output_tokens", provider),
    )


def openai_image_base64(response: Any, *, provider: str, expected_type: type) -> str:
    """The base64 image data of an Images API answer."""
    if not isinstance(response, expected_type):
        raise unexpected_answer(provider, f"{_kind_of(response)} instead of an images response")
    data = getattr(response, "data", None)
    if not isinstance(data, list) or not data:
        raise unexpected_answer(provider, "no image in data")
    encoded = getattr(data[0], "b64_json", None)
    if not isinstance(encoded, str) or not encoded:
        raise unexpected_answer(provider, "data[0].b64_json is missing (base64 image data)")
    return encoded


def unreadable_body(provider: str) -> ProviderError:
    """A 200 answer whose body is not JSON at all (the SDK could not parse it)."""
    return unexpected_answer(provider, "a body that is not valid JSON")
