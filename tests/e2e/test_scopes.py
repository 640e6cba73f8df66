"""Over HTTP with tokens, every tool call needs the scopes its tool declares (checked in one middleware)."""

from tests.e2e.conftest import capture_arguments, unique_email
from tests.e2e.test_auth import AuthServer, _call, _result, _text, _token, auth_server  # noqa: F401


def test_read_scope_allows_reads_but_not_writes(auth_server: AuthServer) -> None:  # noqa: F811
    writer = _token(auth_server, scope="crm:read crm:write")
    created = _result(_call(auth_server, "crm_capture_lead", capture_arguments(unique_email()), writer))
    assert created.get("isError") is False, _text(created)
    lead_id = created["structuredContent"]["lead"]["id"]

    reader = _token(auth_server, scope="crm:read")
    read = _result(_call(auth_server, "crm_get_lead", {"lead_id": lead_id}, reader))
    assert read.get("isError") is False, _text(read)

    refused = _result(_call(auth_server, "crm_capture_lead", capture_arguments(unique_email()), reader))
    assert refused.get("isError") is True
    assert "insufficient_scope" in _text(refused) and "'crm:write'" in _text(refused)


def test_admin_tools_need_the_admin_scope(auth_server: AuthServer) -> None:  # noqa: F811
    writer = _token(auth_server, scope="crm:read crm:write")
    refused = _result(_call(auth_server, "crm_set_scoring_rules", {"overrides": {}}, writer))
    assert refused.get("isError") is True and "'admin'" in _text(refused)
    admin = _token(auth_server, scope="crm:read crm:write admin")
    allowed = _result(_call(auth_server, "crm_set_scoring_rules", {"overrides": {}}, admin))
    assert allowed.get("isError") is False, _text(allowed)


def test_a_token_without_scopes_reaches_no_tool(auth_server: AuthServer) -> None:  # noqa: F811
    bare = _token(auth_server, scope=None)
    refused = _result(_call(auth_server, "crm_search_contacts", {}, bare))
    assert refused.get("isError") is True and "'crm:read'" in _text(refused)
