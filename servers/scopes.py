"""OAuth scopes per tool, declared by each tool's tags (context + read/write/admin) and read once at start.

A tool tagged ``{"crm", "read"}`` needs ``crm:read``; ``{"crm", "write"}`` needs ``crm:write``; the tag
``admin`` adds the ``admin`` scope; ``scope:<name>`` tags (e.g. ``scope:billing:manage``) name the scopes
outright instead. Enforcement happens in the one tool-call middleware, for callers that
present a token (stdio and unauthenticated loopback mode have no token and no scopes to check).
"""

from collections.abc import Iterable

import structlog

from promptsales.domain_core.infrastructure.rate_limit import KNOWN_CONTEXTS

log = structlog.get_logger(__name__)

# Scopes named outright by tools (``scope:<name>`` tags) beside the per-context read/write pairs; campaigns:approve
# is a person's (approving a campaign for spend), which agent tokens need not have.
EXTRA_SCOPES = ("admin", "billing:manage", "campaigns:approve", "content:generate")


def supported_scopes() -> list[str]:
    """Every scope a tool may require, advertised as ``scopes_supported`` in the resource metadata."""
    pairs = [f"{context}:{access}" for context in sorted(KNOWN_CONTEXTS) for access in ("read", "write")]
    return sorted({*pairs, *EXTRA_SCOPES})


def required_scopes(tags: Iterable[str]) -> tuple[str, ...]:
    """The scopes a tool with these tags needs."""
    tag_set = set(tags)
    explicit = sorted(tag.removeprefix("scope:") for tag in tag_set if tag.startswith("scope:"))
    if explicit:
        return tuple(explicit) + (("admin",) if "admin" in tag_set and "admin" not in explicit else ())
    context = next((t for t in sorted(tag_set) if t in KNOWN_CONTEXTS), None)
    if context is None:
        return ("admin",) if "admin" in tag_set else ()
    scopes = [f"{context}:{'write' if 'write' in tag_set else 'read'}"]
    if "admin" in tag_set:
        scopes.append("admin")
    return tuple(scopes)


def insufficient_scope_message(tool: str, missing: Iterable[str]) -> str:
    """The insufficient_scope error text (RFC 6750 §3.1 wording), naming what to ask for."""
    needed = ", ".join(f"'{scope}'" for scope in missing)
    return (
        f"insufficient_scope: {tool} needs the scope {needed}, which the access token does not grant. "
        "Ask the identity provider for a token that includes it."
    )
