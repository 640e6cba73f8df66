"""HubSpot for the core: Bearer auth (private app token or OAuth access token), a probe, the sandbox portal."""

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from promptsales.domain_core.integrations.crm_source import ExternalPerson, PersonPage
from promptsales.domain_core.integrations.drivers import SandboxAccount, Simulator, tenant_number
from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.hubspot.client import ContactUpsert, HubSpotClient, HubSpotObject
from promptsales.domain_core.integrations.hubspot.simulator import HubSpotSimulator
from promptsales.domain_core.integrations.model.connectors import Connector, get_connector
from promptsales.domain_core.integrations.model.person_fields import website_domain

# Our contact fields → HubSpot's default contact properties (§9) when pushing changes.
PUSHED_PROPERTIES = {"first_name": "firstname", "last_name": "lastname", "phone": "phone", "title": "jobtitle"}
CONTACT_PROPERTIES = ("email", "firstname", "lastname", "phone", "jobtitle", "company", "website")
PAGE_SIZE = 100
# Demo people of a sandbox portal (fictional, on example.com domains).
_DEMO_PEOPLE = (
    ("ana.garcia@acme-demo.example.com", "Ana", "García", "Head of Marketing", "Acme Demo", "acme-demo.example.com"),
    ("li.wei@globex-demo.example.com", "Li", "Wei", "VP Sales", "Globex Demo", "globex-demo.example.com"),
    ("sam.okafor@initech-demo.example.com", "Sam", "Okafor", "CTO", "Initech Demo", "initech-demo.example.com"),
    ("marta.rossi@umbrella-demo.example.com", "Marta", "Rossi", "CMO", "Umbrella Demo", "umbrella-demo.example.com"),
    ("jon.berg@hooli-demo.example.com", "Jon", "Berg", "Growth Lead", "Hooli Demo", "hooli-demo.example.com"),
)

# Demo deals on the default pipeline (§9 [~] stage ids): the 2nd person's is open, the 3rd's won, the 4th's lost.
_DEMO_DEALS = (
    ("Globex Demo - annual plan", "qualifiedtobuy", "24000"),
    ("Initech Demo - pilot", "closedwon", "9000"),
    ("Umbrella Demo - expansion", "closedlost", "15000"),
)


def person(record: HubSpotObject) -> ExternalPerson:
    """A HubSpot contact as an external person."""
    props = record.properties
    return ExternalPerson(
        external_id=record.id,
        modified_at=record.updated_at,
        archived=record.archived,
        email=props.get("email") or None,
        first_name=props.get("firstname") or None,
        last_name=props.get("lastname") or None,
        phone=props.get("phone") or None,
        title=props.get("jobtitle") or None,
        company=props.get("company") or None,
        company_domain=website_domain(props.get("website")),
    )


class HubSpotSource:
    """HubSpot contacts as a CRM source: a listing for the first sync, a modified-since search afterwards."""

    def __init__(self, http: ConnectorHttp) -> None:
        self._client = HubSpotClient(http)

    async def people_page(self, *, since: datetime | None, cursor: str | None) -> PersonPage:
        """One page of contacts (all of them, or changed since ``since``)."""
        if since is None:
            page = await self._client.list_page(
                "contacts", after=cursor, limit=PAGE_SIZE, properties=CONTACT_PROPERTIES
            )
        else:
            page = await self._client.search_modified_since(
                "contacts", since, after=cursor, properties=CONTACT_PROPERTIES
            )
        return PersonPage(people=tuple(person(r) for r in page.results), next_cursor=page.next_after)

    async def person(self, contact_id: str) -> ExternalPerson:
        """One contact by id (a webhook names it)."""
        return person(await self._client.get("contacts", contact_id, properties=CONTACT_PROPERTIES))

    async def push_people(self, people: list[Mapping[str, str]]) -> dict[str, str]:
        """Upsert people by email (≤100 per batch); HubSpot's contact id of each, by email."""
        ids: dict[str, str] = {}
        with_email = [p for p in people if p.get("email")]
        for start in range(0, len(with_email), 100):
            batch = [
                ContactUpsert(
                    email=p["email"],
                    properties={name: p[field] for field, name in PUSHED_PROPERTIES.items() if p.get(field)},
                )
                for p in with_email[start : start + 100]
            ]
            outcome = await self._client.upsert_contacts(batch)
            for record in outcome.results:
                email = record.properties.get("email")
                if email:
                    ids[email.lower()] = record.id
        return ids


class HubSpotDriver:
    """HubSpot CRM (contacts) for the connection lifecycle and the CRM sync."""

    connector: Connector = get_connector("hubspot")

    def live_base_url(self, url_parts: Mapping[str, str]) -> str:
        """api.hubapi.com."""
        return self.connector.live_url()

    def sandbox_base_url(self, url_parts: Mapping[str, str]) -> str:
        """The simulator's (never resolved) host."""
        return self.connector.sandbox_base_url

    def auth_headers(self, secret: Mapping[str, Any]) -> dict[str, str]:
        """Bearer with the OAuth access token or the private app token (§9)."""
        return {"Authorization": f"Bearer {secret['access_token']}"}

    async def probe(self, http: ConnectorHttp, account_id: str | None) -> str:
        """Read one contact: proves the token and the contacts scope."""
        page = await HubSpotClient(http).list_page("contacts", limit=1)
        more = "more" if page.next_after else "no more"
        return f"HubSpot portal {account_id or '?'} answered: {len(page.results)} contact on the first page, {more}."

    def source(self, http: ConnectorHttp) -> HubSpotSource:
        """The portal's contacts as a CRM source."""
        return HubSpotSource(http)

    def new_simulator(self, clock: Callable[[], datetime]) -> Simulator:
        """An empty HubSpot simulator."""
        return HubSpotSimulator(tokens={}, clock=clock)

    def sandbox_account(self, tenant_id: str) -> SandboxAccount:
        """A portal id per tenant."""
        portal = tenant_number(tenant_id, 8)
        return SandboxAccount(account_id=portal, label=f"HubSpot sandbox portal {portal}", url_parts={})

    def seed_sandbox(self, simulator: Simulator, account: SandboxAccount, now: datetime) -> None:
        """Five demo companies with one contact each, and three deals (open, won, lost), once per portal."""
        assert isinstance(simulator, HubSpotSimulator)
        portal = int(account.account_id)
        if simulator.portal(portal).records["contacts"]:
            return
        contact_ids = []
        for index, (email, first, last, title, company, domain) in enumerate(_DEMO_PEOPLE):
            at = now - timedelta(days=30 - index)
            company_id = simulator.seed(
                portal, "companies", {"name": company, "domain": domain, "industry": "COMPUTER_SOFTWARE"}, at=at
            )
            contact_id = simulator.seed(
                portal,
                "contacts",
                {
                    "email": email,
                    "firstname": first,
                    "lastname": last,
                    "jobtitle": title,
                    "company": company,
                    "website": f"https://{domain}",
                },
                at=at,
            )
            simulator.associate(portal, "contacts", contact_id, "companies", company_id)
            contact_ids.append(contact_id)
        for index, (name, stage, amount) in enumerate(_DEMO_DEALS):
            deal_id = simulator.seed(
                portal,
                "deals",
                {"dealname": name, "dealstage": stage, "amount": amount, "pipeline": "default"},
                at=now - timedelta(days=10 - index),
            )
            simulator.associate(portal, "deals", deal_id, "contacts", contact_ids[index + 1])
