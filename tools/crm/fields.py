"""Parameter types shared by CRM tools: ids, names, channels — described and constrained once."""

from typing import Annotated

from pydantic import Field

from promptsales.domain_core.crm.dto import ConsentInput, Utm


def _id(prefix: str, what: str) -> object:
    size = len(prefix) + 27  # prefix, "_" and a 26-character ULID
    return Field(
        pattern=rf"^{prefix}_[0-9A-HJKMNP-TV-Z]{{26}}$",
        min_length=size,
        max_length=size,
        description=f"{what} id ({prefix}_...).",
    )


ContactId = Annotated[str, _id("ct", "Contact")]
LeadId = Annotated[str, _id("ld", "Lead")]
OrganizationId = Annotated[str, _id("org", "Organization")]
SegmentId = Annotated[str, _id("seg", "Segment")]
RunId = Annotated[str, _id("run", "Flow run")]
Name = Annotated[str | None, Field(default=None, min_length=1, max_length=100, description="Given or family name.")]
Email = Annotated[str | None, Field(default=None, min_length=3, max_length=320, description="Email address.")]
Phone = Annotated[
    str | None,
    Field(
        default=None,
        min_length=3,
        max_length=40,
        description="Phone, international (+14155550123) or national.",
    ),
]
EmployeeCount = Annotated[
    int | None, Field(default=None, ge=0, le=10_000_000, description="Number of employees of the company.")
]
Country = Annotated[
    str | None,
    Field(default=None, min_length=2, max_length=60, description="ISO country code (US, ES) or name."),
]
Region = Annotated[str | None, Field(default=None, max_length=100, description="State or province.")]
Title = Annotated[str | None, Field(default=None, max_length=150, description="Job title, e.g. 'VP Marketing'.")]
Owner = Annotated[str | None, Field(default=None, max_length=128, description="Owning sales rep (user id or email).")]
Tag = Annotated[str, Field(min_length=1, max_length=60)]
Tags = Annotated[
    list[Tag] | None,
    Field(default=None, max_length=50, description="Free-form tags."),
]
ConsentArg = Annotated[ConsentInput | None, Field(default=None, description="Consent per channel.")]
UtmArg = Annotated[Utm | None, Field(default=None, description="UTM parameters of the touch.")]
