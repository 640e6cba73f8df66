"""What a model reads: argument errors, resource errors and prompts speak in the names it can use."""

from fastmcp import Client

from tests.servers.conftest import Crm


async def test_invalid_arguments_name_each_field_and_the_tool(client: Client) -> None:
    result = await client.call_tool_mcp("crm_list_leads", {"limit": 500, "min_score": -1})
    assert result.is_error
    text = result.content[0].text
    assert text.startswith("Invalid arguments for crm_list_leads:")
    assert "limit:" in text and "min_score:" in text
    assert "call[" not in text and "errors.pydantic.dev" not in text


async def test_resource_errors_carry_the_domain_message(client: Client) -> None:
    try:
        await client.read_resource("crm://crm/flows/no-such-flow")
    except Exception as exc:  # the client raises on resource errors
        assert "flow 'no-such-flow' was not found" in str(exc)
    else:
        raise AssertionError("reading a missing flow must fail")


async def test_gateway_prompt_names_the_gateway_tools(client: Client) -> None:
    prompt = await client.get_prompt("crm_qualify_lead", {"email": "ana@acme.example"})
    text = prompt.messages[0].content.text
    for tool in ("crm_search_contacts", "crm_capture_lead", "crm_get_customer_360", "crm_start_flow"):
        assert tool in text


async def test_blank_organization_name_is_rejected(client: Client) -> None:
    crm = Crm(client)
    text = await crm.error("create_organization", name="\u00a0 ")
    assert "name" in text


async def test_lone_surrogates_are_rejected_before_anything_is_written(client: Client) -> None:
    crm = Crm(client)
    text = await crm.error("create_contact", email="s@acme.example", attributes={"note": "bad \ud800 text"})
    assert "attributes.note" in text and "Unicode" in text
    found = await crm.ok("search_contacts", query="s@acme.example")
    assert found["items"] == []
