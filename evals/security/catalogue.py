"""Which OWASP API Security Top 10 (2023) probes each tool gets, read from its input schema and annotations."""

from typing import Any

# Parameter names through which a caller could make the server fetch something (SSRF).
URL_HINTS = ("url", "uri", "endpoint", "callback", "webhook", "link", "website", "domain", "href", "image")


def _properties(schema: dict[str, Any]) -> dict[str, Any]:
    return dict(schema.get("properties", {}))


def id_parameters(schema: dict[str, Any]) -> list[str]:
    """Top-level parameters that name an object by id (``lead_id``, ``contact_ids``, ``id``)."""
    return [name for name in _properties(schema) if name == "id" or name.endswith(("_id", "_ids"))]


def url_parameters(schema: dict[str, Any]) -> list[str]:
    """Top-level string parameters whose name says they carry a URL."""
    found = []
    for name, spec in _properties(schema).items():
        text = f"{name} {spec.get('description', '')}".lower()
        if any(hint in name.lower() for hint in URL_HINTS) or ("http" in text and "url" in text):
            found.append(name)
    return found


def string_parameters(schema: dict[str, Any]) -> list[str]:
    """Top-level parameters that take free text (injection targets)."""
    found = []
    for name, spec in _properties(schema).items():
        kinds = [spec.get("type")] + [branch.get("type") for branch in spec.get("anyOf", [])]
        if "string" in kinds and "enum" not in spec and name not in ("idempotency_key", "cursor"):
            found.append(name)
    return found


def probe_classes(tool: dict[str, Any]) -> list[str]:
    """The API Top 10 2023 classes a tool is probed for (every tool: auth, rate limit, exposure, injection)."""
    schema = tool.get("inputSchema", {})
    classes = ["API2 broken authentication", "API3 excessive data exposure", "API4 rate limits"]
    if id_parameters(schema):
        classes.append("API1 object-level authorisation")
    if string_parameters(schema):
        classes.append("API8 injection")
    if url_parameters(schema):
        classes.append("API7 SSRF")
    return classes


def catalogue(tools: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Tool name -> the probe classes it gets."""
    return {tool["name"]: probe_classes(tool) for tool in tools}
