"""Which tools a connection sees: selections (toolsets, tool names, read-only, compact) and the view they form.

A selection comes from one source: the server's command line, the endpoint path (``/mcp/crm``), or the request's
query string and ``X-MCP-*`` headers. A tool is visible when every selection in the view allows it, so each source
can only narrow what the others leave (a read-only server stays read-only whatever a client asks for).
"""

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

from promptsales.domain_core.infrastructure.settings import CONTEXTS

COMPACT = "compact"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


@dataclass(frozen=True)
class Selection:
    """What one source asks for: tools of ``toolsets`` or named in ``tools`` (None: all), reads only, compact."""

    toolsets: frozenset[str] | None = None
    tools: frozenset[str] | None = None
    read_only: bool = False
    compact: bool = False

    def allows(self, name: str, context: str | None, read_only: bool) -> bool:
        """Whether a tool (its served name, context and readOnlyHint) passes this selection."""
        if self.read_only and not read_only:
            return False
        if self.toolsets is None and self.tools is None:
            return True
        return (context is not None and context in (self.toolsets or ())) or name in (self.tools or ())

    @property
    def narrows(self) -> bool:
        """Whether it hides anything at all."""
        return self.read_only or self.toolsets is not None or self.tools is not None


@dataclass(frozen=True)
class View:
    """Every selection in force for one connection; a tool is visible when all of them allow it."""

    selections: tuple[Selection, ...] = ()

    def allows(self, name: str, context: str | None, read_only: bool) -> bool:
        """Whether the tool is visible and callable through this view."""
        return all(selection.allows(name, context, read_only) for selection in self.selections)

    def narrowed(self, *more: Selection | None) -> "View":
        """This view with further selections (None entries ignored)."""
        return View(self.selections + tuple(s for s in more if s is not None))

    @property
    def compact(self) -> bool:
        """Whether the client gets the three meta-tools instead of the catalogue."""
        return any(selection.compact for selection in self.selections)

    @property
    def read_only(self) -> bool:
        """Whether only read tools can be reached."""
        return any(selection.read_only for selection in self.selections)

    @property
    def narrows(self) -> bool:
        """Whether any selection hides a tool."""
        return any(selection.narrows for selection in self.selections)


def _names(value: str | Iterable[str] | None) -> frozenset[str] | None:
    """Comma-separated (or repeated) names, trimmed; None when nothing was named."""
    if value is None:
        return None
    parts = value.split(",") if isinstance(value, str) else [p for item in value for p in item.split(",")]
    names = frozenset(part.strip() for part in parts if part.strip())
    return names or None


def parse_flag(value: str | bool | None, *, field: str) -> bool:
    """A boolean option as query strings and headers spell it (true/false, 1/0, yes/no, on/off)."""
    if value is None or isinstance(value, bool):
        return bool(value)
    text = value.strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{field} must be true or false, not {value!r}")


def parse_selection(
    *,
    toolsets: str | Iterable[str] | None = None,
    tools: str | Iterable[str] | None = None,
    read_only: str | bool | None = None,
    mode: str | None = None,
    known_tools: Collection[str] = (),
) -> Selection | None:
    """One source's selection, checked (ValueError naming the option); None when it selects nothing.

    ``known_tools``: the served tool names, to refuse a misspelt ``tools`` entry (not checked when empty).
    """
    sets = _names(toolsets)
    unknown_sets = sorted((sets or frozenset()) - set(CONTEXTS))
    if unknown_sets:
        raise ValueError(f"toolsets: unknown {unknown_sets}; choose from {list(CONTEXTS)}")
    names = _names(tools)
    unknown_tools = sorted((names or frozenset()) - set(known_tools)) if known_tools else []
    if unknown_tools:
        raise ValueError(f"tools: unknown {unknown_tools}; tools/list (or search_tools in compact mode) names them")
    mode_name = (mode or "").strip().lower()
    if mode_name not in ("", "full", COMPACT):
        raise ValueError(f"mode must be 'full' or 'compact', not {mode!r}")
    selection = Selection(
        toolsets=sets, tools=names, read_only=parse_flag(read_only, field="read_only"), compact=mode_name == COMPACT
    )
    return selection if selection.narrows or selection.compact else None


def request_selection(
    query: Mapping[str, str | list[str]], headers: Mapping[str, str], *, known_tools: Collection[str] = ()
) -> Selection | None:
    """The selection a request makes with ``?toolsets=&tools=&read_only=&mode=`` and ``X-MCP-*`` headers.

    Query parameters and headers describe one client's wish, so they are merged (names from both count).
    """

    def both(param: str, header: str) -> list[str] | None:
        """Values of a query parameter and its header together (None: neither given)."""
        values = [*_as_list(query.get(param)), *_as_list(headers.get(header))]
        return values or None

    read_only = _first_flag(query.get("read_only"), query.get("readonly"), headers.get("x-mcp-readonly"))
    mode = _first(query.get("mode")) or headers.get("x-mcp-mode")
    return parse_selection(
        toolsets=both("toolsets", "x-mcp-toolsets"),
        tools=both("tools", "x-mcp-tools"),
        read_only=read_only,
        mode=mode,
        known_tools=known_tools,
    )


def path_selection(suffix: str) -> Selection | None:
    """The selection an endpoint path below ``/mcp`` makes (``crm`` → the CRM toolset); None: no such endpoint."""
    if suffix in CONTEXTS:
        return Selection(toolsets=frozenset({suffix}))
    if suffix == COMPACT:
        return Selection(compact=True)
    return None


def _as_list(value: str | list[str] | None) -> list[str]:
    """A query or header value as a list."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def _first(value: str | list[str] | None) -> str | None:
    """The first value given, if any."""
    values = _as_list(value)
    return values[0] if values else None


def _first_flag(*values: str | list[str] | None) -> bool:
    """True when any given flag is true (each checked, so a malformed one is reported)."""
    flags = [parse_flag(_first(value), field="read_only") for value in values if _first(value) is not None]
    return any(flags)
