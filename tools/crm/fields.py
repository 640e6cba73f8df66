"""Parameter types shared by CRM tools: ids, names, channels — described and constrained once."""

from typing import Annotated

from pydantic import Field

from promptsales.domain_core.crm.dto import ConsentInput, Utm


def _id(prefix: str, what: str) -> object:
    size = len(prefix) + 27  # prefix, "_" and a 26-character ULID
    return Field(
        pattern=rf"^{prefix}_[0-9A-HJKMNP-TV-Z]{{26}}$",
        min_length=size,
        max_length=size,  # the pattern shows the prefix, so no description (issue 12 budgets)
    )


ContactId = Annotated[str, _id("ct", "Contact")]
LeadId = Annotated[str, _id("ld", "Lead")]
OrganizationId = Annotated[str, _id("org", "Organization")]
SegmentId = Annotated[str, _id("seg", "Segment")]
RunId = Annotated[str, _id("run", "Flow run")]
Name = Annotated[str | None, Field(default=None, min_length=1, max_length=100)]
Email = Annotated[str | None, Field(default=None, min_length=3, max_length=320)]
Phone = Annotated[
    str | None,
    Field(
        default=None,
        min_length=3,
        max_length=40,
        description="e.g. +14155550123.",
    ),
]
EmployeeCount = Annotated[int | None, Field(default=None, ge=0, le=10_000_000)]
Country = Annotated[
    str | None,
    Field(default=None, min_length=2, max_length=60, description="e.g. US."),
]
Region = Annotated[str | None, Field(default=None, max_length=100)]
Title = Annotated[str | None, Field(default=None, max_length=150)]
Owner = Annotated[str | None, Field(default=None, max_length=128, description="User id or email.")]
Tag = Annotated[str, Field(min_length=1, max_length=60)]
Tags = Annotated[
    list[Tag] | None,
    Field(default=None, max_length=50),
]
ConsentArg = Annotated[ConsentInput | None, Field(default=None)]
UtmArg = Annotated[Utm | None, Field(default=None)]
