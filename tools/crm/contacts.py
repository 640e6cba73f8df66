"""CRM tools for organizations and contacts."""

from typing import Annotated

from fastmcp import Context, FastMCP
from pydantic import Field

from promptsales.domain_core.crm.commands import CreateContact, CreateOrganization, MergeContacts, UpdateContact
from promptsales.domain_core.crm.dto import ContactPage, ContactView, OrganizationPage, OrganizationView
from promptsales.tools.context import (
    CREATE,
    DESTRUCTIVE,
    READ,
    UPSERT,
    Cursor,
    IdempotencyKey,
    JsonObject,
    Limit,
    ToolRuntime,
)
from promptsales.tools.crm.fields import (
    ConsentArg,
    ContactId,
    Country,
    Email,
    EmployeeCount,
    Name,
    OrganizationId,
    Owner,
    Phone,
    Region,
    Tag,
    Tags,
    Title,
)


def register(mcp: FastMCP, runtime: ToolRuntime) -> None:
    """Add the organization and contact tools to ``mcp``."""

    @mcp.tool(annotations=CREATE, tags={"crm", "write"})
    async def create_organization(
        ctx: Context,
        name: Annotated[str, Field(min_length=1, max_length=200)],
        domain: Annotated[str | None, Field(default=None, max_length=253, description="e.g. acme.com.")] = None,
        industry: Annotated[str | None, Field(default=None, max_length=80, description="e.g. software.")] = None,
        employee_count: EmployeeCount = None,
        country: Country = None,
        region: Region = None,
        idempotency_key: IdempotencyKey = None,
    ) -> OrganizationView:
        """Create a company record; a duplicate domain is rejected with the existing id."""
        command = CreateOrganization(
            name=name, domain=domain, industry=industry, employee_count=employee_count, country=country, region=region
        )
        return await runtime.crm.create_organization(runtime.caller(ctx), command, idempotency_key=idempotency_key)

    @mcp.tool(annotations=READ, tags={"crm", "read"})
    async def search_organizations(
        ctx: Context,
        query: Annotated[str | None, Field(default=None, max_length=200)] = None,
        domain: Annotated[str | None, Field(default=None, max_length=253, description="Exact web domain.")] = None,
        cursor: Cursor = None,
        limit: Limit = 20,
    ) -> OrganizationPage:
        """Find companies by name or domain, paginated."""
        return await runtime.crm.search_organizations(
            runtime.caller(ctx), text=query, domain=domain, cursor=cursor, limit=limit
        )

    @mcp.tool(annotations=CREATE, tags={"crm", "write"})
    async def create_contact(
        ctx: Context,
        first_name: Name = None,
        last_name: Name = None,
        email: Email = None,
        phone: Phone = None,
        title: Title = None,
        organization_id: Annotated[OrganizationId | None, Field(default=None)] = None,
        country: Country = None,
        region: Region = None,
        owner: Owner = None,
        tags: Tags = None,
        attributes: Annotated[JsonObject | None, Field(default=None)] = None,
        consent: ConsentArg = None,
        idempotency_key: IdempotencyKey = None,
    ) -> ContactView:
        """Create a person (email/phone unique). To record a lead with provenance, use crm_capture_lead."""
        command = CreateContact(
            first_name=first_name,
            last_name=last_name,
            email=email,
            phone=phone,
            title=title,
            organization_id=organization_id,
            country=country,
            region=region,
            owner=owner,
            tags=tags,
            attributes=attributes,
            consent=consent,
        )
        return await runtime.crm.create_contact(runtime.caller(ctx), command, idempotency_key=idempotency_key)

    @mcp.tool(annotations=READ, tags={"crm", "read"})
    async def get_contact(ctx: Context, contact_id: ContactId) -> ContactView:
        """Read one contact: identity, organization, tags, attributes and consent."""
        return await runtime.crm.get_contact(runtime.caller(ctx), contact_id=contact_id)

    @mcp.tool(annotations=UPSERT, tags={"crm", "write"})
    async def update_contact(
        ctx: Context,
        contact_id: ContactId,
        first_name: Name = None,
        last_name: Name = None,
        email: Email = None,
        phone: Phone = None,
        title: Title = None,
        organization_id: Annotated[OrganizationId | None, Field(default=None)] = None,
        country: Country = None,
        region: Region = None,
        owner: Owner = None,
        tags: Annotated[list[Tag] | None, Field(default=None, max_length=50, description="Replaces all tags.")] = None,
        attributes: Annotated[
            JsonObject | None,
            Field(default=None, description="Merged; null deletes a key."),
        ] = None,
        consent: ConsentArg = None,
        idempotency_key: IdempotencyKey = None,
    ) -> ContactView:
        """Change some fields of a contact; omitted fields stay."""
        command = UpdateContact(
            contact_id=contact_id,
            first_name=first_name,
            last_name=last_name,
            email=email,
            phone=phone,
            title=title,
            organization_id=organization_id,
            country=country,
            region=region,
            owner=owner,
            tags=tags,
            attributes=attributes,
            consent=consent,
        )
        return await runtime.crm.update_contact(runtime.caller(ctx), command, idempotency_key=idempotency_key)

    @mcp.tool(annotations=READ, tags={"crm", "read"})
    async def search_contacts(
        ctx: Context,
        query: Annotated[str | None, Field(default=None, max_length=200)] = None,
        organization_id: Annotated[OrganizationId | None, Field(default=None)] = None,
        country: Annotated[
            str | None, Field(default=None, max_length=2, pattern=r"^[A-Z]{2}$", description="ISO-2 code.")
        ] = None,
        tag: Annotated[str | None, Field(default=None, max_length=60)] = None,
        owner: Owner = None,
        cursor: Cursor = None,
        limit: Limit = 20,
    ) -> ContactPage:
        """Find active contacts by text and filters, paginated."""
        filters = {
            k: v
            for k, v in {
                "organization_id": organization_id,
                "country": country,
                "tag": tag,
                "owner": owner,
            }.items()
            if v is not None
        }
        return await runtime.crm.search_contacts(
            runtime.caller(ctx), text=query, filters=filters, cursor=cursor, limit=limit
        )

    @mcp.tool(annotations=DESTRUCTIVE, tags={"crm", "write"})
    async def merge_contacts(
        ctx: Context,
        survivor_id: Annotated[ContactId, Field()],
        duplicate_id: Annotated[ContactId, Field()],
        idempotency_key: IdempotencyKey = None,
    ) -> ContactView:
        """Merge a duplicate person into a survivor; leads, interactions and consent history move over."""
        command = MergeContacts(survivor_id=survivor_id, duplicate_id=duplicate_id)
        return await runtime.crm.merge_contacts(runtime.caller(ctx), command, idempotency_key=idempotency_key)
