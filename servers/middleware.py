"""The one place every tool call passes: request id, scopes, plan entitlements, rate limits, metrics, and
mapping errors to actionable text."""

import inspect
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import structlog
from fastmcp import Context
from fastmcp.exceptions import McpError, PromptError, ResourceError, ToolError
from fastmcp.exceptions import ValidationError as FastMCPValidationError
from fastmcp.server.dependencies import get_access_token
from fastmcp.server.middleware import CallNext, Middleware, MiddlewareContext
from pydantic import TypeAdapter, ValidationError

from promptsales.domain_core.shared.errors import DomainError, NotFound, Unavailable, ValidationFailed
from promptsales.servers.metrics import ToolMetrics
from promptsales.servers.request_ids import begin_request
from promptsales.servers.runtime import Runtime
from promptsales.servers.scopes import insufficient_scope_message

log = structlog.get_logger(__name__)
# JSON-RPC "server error" range: tools/list could not be filtered by the caller's plan.
PLAN_UNAVAILABLE = -32001
INVALID_PARAMS = -32602
# fastmcp's wording when a prompt argument does not convert to the declared type.
_PROMPT_ARGUMENT = re.compile(r"Could not convert argument '([^']+)'")


def _domain_cause(exc: BaseException) -> DomainError | None:
    """The domain error behind ``exc`` (fastmcp wraps tool exceptions in ToolError)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, DomainError):
            return seen
        seen = seen.__cause__
    return None


def _unstorable_text(value: Any, path: str) -> tuple[str, str] | None:
    """(path, what is wrong) of the first string no backend can store or send back, or None.

    Checked once here for every tool and prompt: Postgres text cannot hold NUL, and a lone surrogate is not
    UTF-8, so either would otherwise fail deep in a driver as an internal error.
    """
    if isinstance(value, str):
        if "\x00" in value:
            return path, "contains a NUL character (\\u0000), which cannot be stored; remove it"
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return path, "contains text that is not valid Unicode (a lone surrogate); send UTF-8 text"
        return None
    if isinstance(value, dict):
        items: Any = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        # The path is echoed to the client: a key holding a lone surrogate is shown escaped, never raw.
        shown = key.encode("utf-8", "backslashreplace").decode() if isinstance(key, str) else str(key)
        where = f"{path}.{shown}" if path else shown
        found = _unstorable_text(key, where) if isinstance(key, str) else None
        found = found if found is not None else _unstorable_text(item, where)
        if found is not None:
            return found
    return None


def _invalid_arguments(tool: str, exc: FastMCPValidationError) -> str:
    """Name each invalid argument and what is wrong with it (at most three)."""
    cause = _pydantic_cause(exc)
    if cause is None:
        return f"Invalid arguments for {tool}: {exc}"
    problems = []
    for error in cause.errors()[:3]:
        where = ".".join(str(p) for p in error["loc"]) or "arguments"
        problems.append(f"{where}: {error['msg']}")
    more = len(cause.errors()) - len(problems)
    suffix = f" (and {more} more)" if more > 0 else ""
    return f"Invalid arguments for {tool}: " + "; ".join(problems) + suffix + "."


def _pydantic_cause(exc: BaseException) -> ValidationError | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ValidationError):
            return seen
        seen = seen.__cause__
    return None


async def _conversion_reason(context: MiddlewareContext[Any], argument: str) -> str:
    """Why a prompt argument did not convert: its value validated against the prompt's own annotation.

    fastmcp validates the text as given, then retries it as JSON and reports only the JSON attempt ("Invalid
    JSON"), which says nothing about what the argument accepts.
    """
    server = context.fastmcp_context.fastmcp if context.fastmcp_context is not None else None
    prompt = await server.get_prompt(context.message.name) if server is not None else None
    function = getattr(prompt, "fn", None)
    value = (context.message.arguments or {}).get(argument)
    if function is None or value is None:
        return "invalid value"
    parameter = inspect.signature(function).parameters.get(argument)
    if parameter is None:
        return "invalid value"
    try:
        TypeAdapter(parameter.annotation).validate_python(value)
    except ValidationError as exc:
        return str(exc.errors()[0]["msg"])
    return "invalid value"


Admit = Callable[[Context | None, str], Awaitable[None]]
VisibleTools = Callable[[Context | None, list[str]], Awaitable[set[str]]]


class ToolCallMiddleware(Middleware):
    """Checks scopes, plan entitlements and rate limits; times and counts calls; turns failures into isError
    results a model can act on. tools/list shows each caller only what its plan includes."""

    def __init__(
        self,
        metrics: ToolMetrics,
        *,
        admit: Admit | None = None,
        visible_tools: VisibleTools | None = None,
        tool_scopes: Mapping[str, tuple[str, ...]] | None = None,
    ) -> None:
        self._metrics = metrics
        self._admit = admit
        self._visible_tools = visible_tools
        self._tool_scopes = tool_scopes if tool_scopes is not None else {}

    def _missing_scopes(self, tool: str) -> list[str]:
        """Scopes the tool declares that the caller's bearer token lacks (no token: nothing to check)."""
        token = get_access_token()
        if token is None:
            return []
        return [scope for scope in self._tool_scopes.get(tool, ()) if scope not in token.scopes]

    def _check_scopes(self, tool: str) -> None:
        """Refuse a call whose bearer token lacks a scope the tool declares."""
        missing = self._missing_scopes(tool)
        if missing:
            raise ToolError(insufficient_scope_message(tool, missing))

    async def on_call_tool(self, context: MiddlewareContext[Any], call_next: CallNext[Any, Any]) -> Any:
        tool = context.message.name
        request_id = begin_request()
        bad_text = _unstorable_text(context.message.arguments or {}, "")
        if bad_text is not None:
            self._metrics.calls.labels(tool=tool, outcome="rejected").inc()
            where, problem = bad_text
            raise ToolError(f"Invalid arguments for {tool}: {where or 'arguments'} {problem}.")
        started = time.perf_counter()
        self._metrics.in_flight.inc()
        outcome = "ok"
        try:
            self._check_scopes(tool)
            if self._admit is not None:
                await self._admit(context.fastmcp_context, tool)
            result = await call_next(context)
            if getattr(result, "is_error", False):
                outcome = "error"
            return result
        except ToolError as exc:
            domain = _domain_cause(exc)
            if domain is not None:
                outcome = "unavailable" if isinstance(domain, Unavailable) else "rejected"
                log.info("tool_rejected", tool=tool, code=domain.code, field=domain.field, request_id=request_id)
                raise ToolError(domain.public_message()) from None
            if exc.__cause__ is None or isinstance(exc.__cause__, ToolError):
                outcome = "rejected"
                raise
            invalid = _pydantic_cause(exc)
            if invalid is not None:
                outcome = "rejected"
                first = invalid.errors()[0]
                where = ".".join(str(p) for p in first["loc"]) or "arguments"
                raise ToolError(f"Invalid value for {where}: {first['msg']}.") from None
            outcome = "error"
            log.error("tool_failed", tool=tool, request_id=request_id, exc_info=exc.__cause__)
            # No claim about what was written: the failure may come after the commit (e.g. serialising the reply).
            raise ToolError(
                f"Internal error while running {tool}. Reference {request_id}. Retrying with the same "
                "idempotency_key is safe."
            ) from None
        except FastMCPValidationError as exc:
            outcome = "rejected"
            raise ToolError(_invalid_arguments(tool, exc)) from None
        except DomainError as exc:  # raised before the tool ran (rate limit, unknown tenant)
            outcome = "rejected"
            log.info("tool_rejected", tool=tool, code=exc.code, field=exc.field, request_id=request_id)
            raise ToolError(exc.public_message()) from None
        except Exception:
            outcome = "rejected"
            raise
        finally:
            self._metrics.in_flight.dec()
            self._metrics.calls.labels(tool=tool, outcome=outcome).inc()
            self._metrics.latency.labels(tool=tool).observe(time.perf_counter() - started)

    async def on_list_tools(self, context: MiddlewareContext[Any], call_next: CallNext[Any, Any]) -> Any:
        # A tool the token's scopes cannot call is not offered: the agent would only be refused.
        tools = [tool for tool in await call_next(context) if not self._missing_scopes(tool.name)]
        if self._visible_tools is None:
            return tools
        try:
            visible = await self._visible_tools(context.fastmcp_context, [tool.name for tool in tools])
        except DomainError as exc:  # the plan cannot be read: fail closed, saying why
            raise McpError(code=PLAN_UNAVAILABLE, message=exc.public_message()) from None
        return [tool for tool in tools if tool.name in visible]

    async def on_read_resource(self, context: MiddlewareContext[Any], call_next: CallNext[Any, Any]) -> Any:
        begin_request()
        try:
            return await call_next(context)
        except ResourceError as exc:
            domain = _domain_cause(exc)
            if domain is None:
                raise
            if isinstance(domain, NotFound | ValidationFailed):  # the URI names nothing readable: bad params
                raise McpError(code=INVALID_PARAMS, message=domain.public_message()) from None
            raise ResourceError(domain.public_message()) from None

    async def on_get_prompt(self, context: MiddlewareContext[Any], call_next: CallNext[Any, Any]) -> Any:
        begin_request()
        name = context.message.name
        bad_text = _unstorable_text(context.message.arguments or {}, "")
        if bad_text is not None:
            where, problem = bad_text
            raise McpError(code=INVALID_PARAMS, message=f"Invalid argument for prompt {name}: {where} {problem}.")
        try:
            return await call_next(context)
        except PromptError as exc:
            argument = _PROMPT_ARGUMENT.search(str(exc))
            if argument is None:
                raise
            reason = await _conversion_reason(context, argument.group(1))
            raise McpError(
                code=INVALID_PARAMS, message=f"Invalid argument '{argument.group(1)}' for prompt {name}: {reason}."
            ) from None


def call_middleware(runtime: Runtime) -> ToolCallMiddleware:
    """The tool-call middleware wired to the process runtime (metrics, rate limits, scopes)."""
    return ToolCallMiddleware(
        runtime.metrics,
        admit=runtime.admit,
        visible_tools=runtime.visible_tools,
        tool_scopes=runtime.tool_scopes,
    )
