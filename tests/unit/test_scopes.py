"""Each tool's OAuth scopes follow from its declared tags."""

import pytest

from promptsales.servers.scopes import insufficient_scope_message, required_scopes


@pytest.mark.parametrize(
    ("tags", "scopes"),
    [
        ({"crm", "read"}, ("crm:read",)),
        ({"crm", "write"}, ("crm:write",)),
        ({"crm", "write", "import"}, ("crm:write",)),
        ({"crm", "write", "admin"}, ("crm:write", "admin")),
        ({"campaigns", "write"}, ("campaigns:write",)),
        ({"admin"}, ("admin",)),
        ({"business", "write", "scope:billing:manage"}, ("billing:manage",)),
        ({"business", "read"}, ("business:read",)),
        (set(), ()),
    ],
)
def test_required_scopes(tags: set[str], scopes: tuple[str, ...]) -> None:
    assert required_scopes(tags) == scopes


def test_message_names_the_missing_scope() -> None:
    text = insufficient_scope_message("crm_capture_lead", ["crm:write"])
    assert text.startswith("insufficient_scope:") and "'crm:write'" in text and "crm_capture_lead" in text
