"""The task set: every context's tasks, in one list."""

from evals.agents import tasks_analytics, tasks_business, tasks_campaigns, tasks_content, tasks_crm, tasks_integrations
from evals.agents.spec import Task

CONTEXTS = ("crm", "content", "business", "integrations", "campaigns", "analytics")
TASKS: list[Task] = [
    *tasks_crm.TASKS,
    *tasks_content.TASKS,
    *tasks_business.TASKS,
    *tasks_integrations.TASKS,
    *tasks_campaigns.TASKS,
    *tasks_analytics.TASKS,
]


def select(ids: list[str] | None = None, contexts: list[str] | None = None) -> list[Task]:
    """The tasks with these ids and/or in these contexts (all when neither is given)."""
    chosen = [t for t in TASKS if (not ids or t.id in ids) and (not contexts or t.context in contexts)]
    unknown = set(ids or ()) - {t.id for t in TASKS}
    if unknown:
        raise ValueError(f"unknown task ids: {sorted(unknown)}")
    return chosen
