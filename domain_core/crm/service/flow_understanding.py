"""Before a flow turn: when the local interpreter cannot read the reply, ask the extractor (outside any transaction).

The extractor is the content context's field extraction, injected by the composition root (local by
default, the tenant's model when configured). Its answer is only a suggestion: the engine accepts it when
it is a valid answer to the same question, and asks again otherwise.
"""

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol

import structlog

from promptsales.domain_core.crm.commands import AdvanceFlow
from promptsales.domain_core.crm.model.flows import Suggestion, understand
from promptsales.domain_core.crm.model.reply_extraction import extraction_schema, suggestion_from
from promptsales.domain_core.crm.service import flows
from promptsales.domain_core.infrastructure.uow import UnitOfWorkFactory
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.errors import DomainError

log = structlog.get_logger(__name__)


class ExtractedFields(Protocol):
    """What an extractor found: values by schema property name."""

    @property
    def values(self) -> Mapping[str, Any]: ...


AnswerExtraction = Callable[[Caller, str, dict[str, Any]], Awaitable[ExtractedFields]]


async def suggest(
    uow_factory: UnitOfWorkFactory, caller: Caller, command: AdvanceFlow, extract: AnswerExtraction | None
) -> Suggestion | None:
    """The extractor's reading of the reply, only when the run waits on a question the reply does not answer."""
    if extract is None or not command.user_input.strip():
        return None
    pending = await uow_factory.read(caller, lambda uow: flows.question_of_run(uow, run_id=command.run_id))
    if pending is None:
        return None
    step_id, step = pending
    schema = extraction_schema(step)
    if schema is None or understand(step, command.user_input) is not None:
        return None
    try:
        found = await extract(caller, command.user_input, schema)
    except DomainError as exc:
        # The extractor is a second opinion: without it the question is simply asked again.
        log.warning("flow_answer_extraction_failed", code=exc.code, step=step_id)
        return None
    return suggestion_from(step_id, step, found.values)
