"""Zendesk for the core: the account's subdomain, API-token or OAuth auth, a probe and the sandbox help desk.

Live connections name their account by ``subdomain`` (``acme`` for acme.zendesk.com). An API token is given as
``api_key`` in Zendesk's own Basic-auth form ``{agent email}/token:{api token}`` (the email of the agent the token
acts as; both are sealed with the connection's credentials and never shown); a bare token is taken as an OAuth
access token (Bearer). The sandbox help desk is seeded with a few tickets whose requesters are demo people.
"""

import base64
import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from promptsales.domain_core.integrations.drivers import SandboxAccount, Simulator, tenant_slug
from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.model.connectors import Connector, get_connector
from promptsales.domain_core.integrations.zendesk.client import ZendeskClient, zendesk_origin
from promptsales.domain_core.integrations.zendesk.simulator import ZendeskSimulator
from promptsales.domain_core.shared.errors import ValidationFailed

SANDBOX_HOST_SUFFIX = ".zendesk.sandbox.promptsales.invalid"
TOKEN_MARKER = "/token:"  # noqa: S105  # Zendesk's Basic-auth separator, not a secret
_EMAIL = re.compile(r"[^@\s/:]{1,64}@[^@\s/:]{1,255}")
_MALFORMED_KEY = "The Zendesk API key is not in the form email/token:TOKEN."
API_KEY_HINT = "Give api_key as agent@yourcompany.com/token:<API token> (Admin Center > Apps and integrations > APIs)."

# The sandbox help desk: (requester email, name, subject, channel, status, priority, days ago, [(from requester?,
# text)]). Two requesters are demo people of the HubSpot and Salesforce sandboxes, so their tickets meet them.
_DEMO_TICKETS: tuple[tuple[str, str, str, str, str, str, int, tuple[tuple[bool, str], ...]], ...] = (
    (
        "ana.garcia@acme-demo.example.com",
        "Ana García",
        "Cannot export the quarterly report",
        "email",
        "open",
        "high",
        6,
        (
            (True, "Hi, the export button fails with an error since yesterday. We need it for the board meeting."),
            (False, "Thanks Ana, we are looking into it. Could you send a screenshot of the error?"),
            (True, "Screenshot attached. This is really urgent for us, please hurry."),
        ),
    ),
    (
        "priya.nair@vandelay-demo.example.com",
        "Priya Nair",
        "Question about upgrading to the Enterprise plan",
        "web",
        "pending",
        "normal",
        4,
        (
            (True, "We would love a demo of the Enterprise features and pricing for 50 seats."),
            (False, "Happy to help! I have asked our sales team to book a demo with you this week."),
        ),
    ),
    (
        "kim.lee@northwind-demo.example.com",
        "Kim Lee",
        "Login works again, thanks",
        "chat",
        "solved",
        "low",
        3,
        (
            (True, "I could not log in this morning, the page keeps loading."),
            (False, "We reset your session; please try again now."),
            (True, "Works now, thank you so much, great support!"),
        ),
    ),
    (
        "ana.garcia@acme-demo.example.com",
        "Ana García",
        "Invoice address change",
        "email",
        "new",
        "normal",
        1,
        ((True, "Please change the address on our invoices to 12 Demo Street, Springfield."),),
    ),
)


def basic_credential(api_key: str) -> str:
    """The Basic-auth value of ``{email}/token:{token}``; ValidationFailed naming ``api_key`` when malformed."""
    email, marker, token = api_key.partition(TOKEN_MARKER)
    if not marker or not _EMAIL.fullmatch(email) or not token.strip() or any(c.isspace() for c in token):
        raise ValidationFailed(_MALFORMED_KEY, field="api_key", hint=API_KEY_HINT)
    return "Basic " + base64.b64encode(api_key.encode()).decode("ascii")


class ZendeskDriver:
    """Zendesk Support (tickets and comments) for the connection lifecycle and the support sync."""

    connector: Connector = get_connector("zendesk")

    def live_base_url(self, url_parts: Mapping[str, str]) -> str:
        """``https://{subdomain}.zendesk.com`` (the client's paths carry /api/v2)."""
        subdomain = (url_parts.get("subdomain") or "").strip().lower()
        if not subdomain:
            raise ValidationFailed(
                "Zendesk needs the account's subdomain.",
                field="subdomain",
                hint="Pass subdomain: acme for acme.zendesk.com.",
            )
        try:
            return zendesk_origin(subdomain)
        except ValueError:
            raise ValidationFailed(
                "The Zendesk subdomain must be one name of letters, digits and dashes.",
                field="subdomain",
                hint="Give just the name (acme for acme.zendesk.com), not a URL.",
            ) from None

    def sandbox_base_url(self, url_parts: Mapping[str, str]) -> str:
        """The simulator's (never resolved) host for the sandbox account."""
        return f"https://{url_parts.get('subdomain') or 'sandbox'}{SANDBOX_HOST_SUFFIX}"

    def auth_headers(self, secret: Mapping[str, Any]) -> dict[str, str]:
        """Basic ``{email}/token:{token}`` for an API token, Bearer for an OAuth access token (§11)."""
        token = str(secret["access_token"])
        if TOKEN_MARKER in token:
            return {"Authorization": basic_credential(token)}
        if "@" in token or ":" in token or any(c.isspace() for c in token):
            raise ValidationFailed(_MALFORMED_KEY, field="api_key", hint=API_KEY_HINT)
        return {"Authorization": f"Bearer {token}"}

    async def probe(self, http: ConnectorHttp, account_id: str | None) -> str:
        """Read the credentials' own user: proves them and says whom they act as."""
        me = await ZendeskClient(http).me()
        role = me.role or "user"
        return f"Zendesk {account_id or 'account'} answered: the credentials act as an {role}."

    def new_simulator(self, clock: Callable[[], datetime]) -> Simulator:
        """An empty Zendesk simulator."""
        return ZendeskSimulator(tokens={}, clock=clock)

    def sandbox_account(self, tenant_id: str) -> SandboxAccount:
        """A subdomain per tenant (the account webhooks name)."""
        subdomain = tenant_slug(tenant_id)
        return SandboxAccount(
            account_id=subdomain, label=f"Zendesk sandbox {subdomain}", url_parts={"subdomain": subdomain}
        )

    def seed_sandbox(self, simulator: Simulator, account: SandboxAccount, now: datetime) -> None:
        """Four demo tickets with their conversations, once per account."""
        assert isinstance(simulator, ZendeskSimulator)
        subdomain = account.account_id
        if simulator.account(subdomain).tickets:
            return
        for email, name, subject, channel, status, priority, days, conversation in _DEMO_TICKETS:
            opened = now - timedelta(days=days)
            first, *rest = conversation
            ticket = simulator.seed_ticket(
                subdomain,
                subject,
                comment=first[1],
                status=status,
                at=opened,
                requester_email=email,
                requester_name=name,
                channel=channel,
                priority=priority,
            )
            for hours, (from_requester, text) in enumerate(rest, start=1):
                simulator.add_comment(
                    subdomain,
                    ticket,
                    text,
                    at=opened + timedelta(hours=hours),
                    author_email=email if from_requester else None,
                )
