"""External CRM records in one shape, whichever CRM they come from (HubSpot contacts, Salesforce Contacts)."""

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from promptsales.domain_core.integrations.views import FrozenView

# The fields a two-way sync compares and writes (the conflict rule works field by field).
PERSON_FIELDS = ("email", "first_name", "last_name", "phone", "title", "company", "company_domain")
# The key under which a pushed person names the platform's record it is linked to (absent: not linked yet).
LINKED_ID = "external_id"


class ExternalPerson(FrozenView):
    """A person as an external CRM holds it."""

    external_id: str
    modified_at: datetime
    archived: bool = False
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    phone: str | None = None
    title: str | None = None
    company: str | None = None
    company_domain: str | None = None

    def fields(self) -> dict[str, str | None]:
        """The compared fields, by name."""
        return {name: getattr(self, name) for name in PERSON_FIELDS}


class PersonPage(FrozenView):
    """One page of people and where the next starts (None: the end)."""

    people: tuple[ExternalPerson, ...]
    next_cursor: str | None = None


class CrmSource(Protocol):
    """Read people page by page, changed since a moment, resumable from a cursor; write people back."""

    async def people_page(self, *, since: datetime | None, cursor: str | None) -> PersonPage: ...

    async def push_people(self, people: list[Mapping[str, str]]) -> dict[str, str]:
        """Create or update people (by their ``LINKED_ID`` record where the platform can, else by email); the
        platform's id of each, by email."""
        ...
