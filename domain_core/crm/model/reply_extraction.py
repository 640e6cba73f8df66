"""Asking an extractor (the content context, a model) what a reply answers, when the local reading is unsure.

``extraction_schema`` describes the pending question as a one-field JSON schema; ``suggestion_from`` turns
the extractor's values back into a ``Suggestion`` the engine checks like any other answer.
"""

from collections.abc import Mapping
from typing import Any

from promptsales.domain_core.crm.model.flow_definitions import AskStep
from promptsales.domain_core.crm.model.flows import Suggestion, match_choice


def extraction_schema(step: AskStep) -> dict[str, Any] | None:
    """A JSON schema whose one property is the answer to ``step`` (None for questions read exactly)."""
    match step.expect:
        case "choice":
            options = "; ".join(f"{choice.id} = {choice.label}" for choice in step.choices)
            prop: dict[str, Any] = {
                "type": "string",
                "enum": [choice.id for choice in step.choices],
                "description": f"The option the reply chooses for: {step.text} Options: {options}.",
            }
        case "yes_no":
            prop = {"type": "boolean", "description": f"The yes (true) or no (false) answer to: {step.text}"}
        case "number":
            prop = {"type": "number", "description": f"The number that answers: {step.text}"}
        case _:
            return None
    return {"type": "object", "properties": {step.field: prop}}


def suggestion_from(step_id: str, step: AskStep, values: Mapping[str, Any]) -> Suggestion | None:
    """The extractor's answer for the step, as a suggestion (an option label is mapped to its id)."""
    value = values.get(step.field)
    if value is None or isinstance(value, dict | list):
        return None
    if step.expect == "choice" and isinstance(value, str) and value not in {c.id for c in step.choices}:
        value = match_choice(step.choices, value)
        if value is None:
            return None
    return Suggestion(step_id=step_id, value=value)
