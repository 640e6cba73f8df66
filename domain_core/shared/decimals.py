"""The input schema of a bounded decimal: a number in range, or its text with a length (pydantic's own schema for a
Decimal accepts a string of any length, and every string a tool takes is bounded to fit the transport's body limit)."""

from typing import Any

from pydantic import WithJsonSchema

DECIMAL_TEXT = r"^[0-9]{1,12}(\.[0-9]{1,4})?$"


def decimal_schema(
    *, minimum: float, maximum: float, exclusive_minimum: bool = False, description: str | None = None
) -> WithJsonSchema:
    """Replace a Decimal's input schema with a bounded number-or-text (outputs keep pydantic's schema). A required
    parameter's description goes here: pydantic drops a field description beside a replaced schema."""
    number: dict[str, Any] = {"type": "number", "maximum": maximum}
    number["exclusiveMinimum" if exclusive_minimum else "minimum"] = minimum
    schema: dict[str, Any] = {"anyOf": [number, {"type": "string", "maxLength": 17, "pattern": DECIMAL_TEXT}]}
    if description:
        schema["description"] = description
    return WithJsonSchema(schema, mode="validation")
