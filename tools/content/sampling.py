"""The `sampling` provider at the MCP layer: ask the connected client's own model, then use its answer.

On 2026-07-28 a tool asks for input by returning ``InputRequiredResult``; the client runs the sampling
request and calls the tool again with the answer (MCP_NOTES §8). Older connections cannot do this round
trip, so they get a clear error instead.
"""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from fastmcp import Context
from mcp.types import (
    CreateMessageRequest,
    CreateMessageRequestParams,
    CreateMessageResult,
    InputRequiredResult,
    SamplingMessage,
    TextContent,
)

from promptsales.domain_core.content.facade import NeedsSampling, Sampled
from promptsales.domain_core.shared.errors import NotEntitled

MODERN = "2026-07-28"
REQUEST_KEY = "llm"
CAPABILITIES = "io.modelcontextprotocol/clientCapabilities"
T = TypeVar("T")


def sampled_answer(ctx: Context) -> Sampled | None:
    """The client's answer to this tool's sampling request, on the round after it asked."""
    responses = ctx.input_responses if ctx.request_context is not None else None
    answer = responses.get(REQUEST_KEY) if responses else None
    if not isinstance(answer, CreateMessageResult):
        return None
    blocks = answer.content if isinstance(answer.content, list) else [answer.content]
    text = "".join(block.text for block in blocks if isinstance(block, TextContent))
    return Sampled(text=text, model=answer.model or "client")


def _client_can_sample(ctx: Context) -> bool:
    meta: Any = ctx.request_context.meta if ctx.request_context is not None else None
    capabilities = meta.get(CAPABILITIES) if isinstance(meta, dict) else getattr(meta, CAPABILITIES, None)
    if capabilities is None and meta is not None and hasattr(meta, "model_extra"):
        capabilities = (meta.model_extra or {}).get(CAPABILITIES)
    if capabilities is None:
        return True  # not declared per request: let the client answer or refuse
    sampling = (
        capabilities.get("sampling") if isinstance(capabilities, dict) else getattr(capabilities, "sampling", None)
    )
    return sampling is not None


async def with_sampling(ctx: Context, call: Callable[[Sampled | None], Awaitable[T]]) -> T | InputRequiredResult:
    """Run ``call``; if the tenant writes with the client's model, ask the client and finish next round."""
    try:
        return await call(sampled_answer(ctx))
    except NeedsSampling as need:
        version = ctx.request_context.protocol_version if ctx.request_context is not None else None
        if version != MODERN:
            raise NotEntitled(
                f"The tenant's writer is the client's own model (sampling), which needs MCP {MODERN}; this "
                f"connection speaks {version or 'an older revision'}.",
                hint="Reconnect with a 2026-07-28 client that supports sampling, or pick another provider with "
                "content_set_ai_provider.",
            ) from None
        if not _client_can_sample(ctx):
            raise NotEntitled(
                "The tenant's writer is the client's own model (sampling), but this client does not offer sampling.",
                hint="Use a client that supports sampling, or pick another provider with content_set_ai_provider.",
            ) from None
        request = need.request
        return InputRequiredResult(
            result_type="input_required",
            input_requests={
                REQUEST_KEY: CreateMessageRequest(
                    method="sampling/createMessage",
                    params=CreateMessageRequestParams(
                        messages=[SamplingMessage(role="user", content=TextContent(type="text", text=request.prompt))],
                        system_prompt=request.system,
                        max_tokens=request.max_output_tokens,
                        temperature=request.temperature,
                    ),
                )
            },
        )
