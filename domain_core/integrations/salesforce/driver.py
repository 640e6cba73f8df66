"""Salesforce for the core: the org's instance URL, Bearer auth, a probe, the sandbox org and Contacts as a CRM source
(read, and written back by the CRM push).

The API lives on the org's own host: live connections use the ``instance_url`` the token response names (kept in
the connection's URL parts), else a My Domain name. Contacts are read with their Account's name and website; the
first sync lists them all, later ones ask for changes since the last run (``SystemModstamp``), and the resumable
cursor is the query's ``nextRecordsUrl`` locator. An expired locator (Salesforce drops idle ones) makes the run
issue its query again: the records read twice are recognised by id and stamp and change nothing.

Pushes: a person linked to a Contact is updated by its Id (``PATCH``, retried: setting the same values twice is
harmless); an unlinked one (or one whose Contact was deleted in Salesforce) is looked up by email and that Contact
updated, else a Contact is created (``POST``, sent once: Salesforce takes no idempotency key, so after a timeout the
next push finds the Contact by email instead of creating a second). Salesforce requires ``LastName``: a person
without one is created with their email's local part, which the next sync brings back into the CRM.
"""

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from promptsales.domain_core.integrations.crm_source import LINKED_ID, ExternalPerson, PersonPage
from promptsales.domain_core.integrations.drivers import SandboxAccount, Simulator, tenant_number
from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.model.connectors import Connector, get_connector
from promptsales.domain_core.integrations.model.errors import ConnectorError, PlatformValidationError
from promptsales.domain_core.integrations.model.person_fields import clip, usable_phone, website_domain
from promptsales.domain_core.integrations.salesforce.client import RECORD_ID, SalesforceClient, SObject
from promptsales.domain_core.integrations.salesforce.simulator import SalesforceSimulator
from promptsales.domain_core.shared.errors import ValidationFailed

CONTACT_FIELDS = ("Phone", "Title", "Account.Name", "Account.Website")
BATCH_SIZE = 200  # the smallest batch Salesforce takes: each committed page is small (§10 batchSize 200..2000)
# A pushed person's fields → the Contact's.
PUSHED_FIELDS = {
    "email": "Email",
    "first_name": "FirstName",
    "last_name": "LastName",
    "phone": "Phone",
    "title": "Title",
}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Hosts an org's API can live on (My Domain, sandboxes, Government Cloud).
_INSTANCE_HOSTS = (".salesforce.com", ".force.com", ".salesforce.mil", ".cloudforce.com")
# Demo people of a sandbox org (fictional, on example.com domains): email, first, last, title, phone, company.
# Each works at "<company> Demo" (an Account with its website, industry, size and country).
_DEMO_PEOPLE = (
    ("priya.nair@vandelay-demo.example.com", "Priya", "Nair", "Director of Operations", "+1 415 555 0101", "Vandelay"),
    ("tom.keller@stark-demo.example.com", "Tom", "Keller", "Procurement Manager", "+49 30 5550 0102", "Stark"),
    ("aisha.bello@wayne-demo.example.com", "Aisha", "Bello", "VP Marketing", "+44 20 7946 0103", "Wayne"),
    ("diego.santos@cyberdyne-demo.example.com", "Diego", "Santos", "IT Director", "+55 11 5550 0104", "Cyberdyne"),
    ("emma.larsen@soylent-demo.example.com", "Emma", "Larsen", "Head of Sales", "+45 3555 0105", "Soylent"),
)
_DEMO_ACCOUNTS = (
    ("Logistics", 250, "United States"),
    ("Manufacturing", 1200, "Germany"),
    ("Media", 80, "United Kingdom"),
    ("Technology", 4000, "Brazil"),
    ("Food & Beverage", 600, "Denmark"),
)
# Demo Opportunities, with the person they name as primary contact role: the 2nd person's is open, the 3rd's won,
# the 4th's lost.
_DEMO_OPPORTUNITIES = (
    ("Stark Demo - annual plan", "Negotiation/Review", 24000, 1),
    ("Wayne Demo - pilot", "Closed Won", 9000, 2),
    ("Cyberdyne Demo - expansion", "Closed Lost", 15000, 3),
)


def instance_origin(url: str) -> str:
    """The https origin of an org's ``instance_url``; ValidationFailed when it is not a Salesforce host."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if (
        parts.scheme != "https"
        or not host.endswith(_INSTANCE_HOSTS)
        or parts.username is not None
        or parts.password is not None
        or parts.port is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise ValidationFailed(
            "The Salesforce org's instance URL is not a Salesforce https address.",
            field="platform",
            hint="Run integrations_connect for salesforce again.",
        )
    return f"https://{host}"


def person(record: SObject) -> ExternalPerson:
    """A Salesforce Contact (with its Account's name and website) as an external person."""
    fields = record.fields
    account = fields.get("Account")
    account = account if isinstance(account, Mapping) else {}
    return ExternalPerson(
        external_id=record.id,
        modified_at=record.system_modstamp or _EPOCH,
        email=clip(fields.get("Email"), 320),
        first_name=clip(fields.get("FirstName"), 100),
        last_name=clip(fields.get("LastName"), 100),
        phone=usable_phone(fields.get("Phone")),
        title=clip(fields.get("Title"), 150),
        company=clip(account.get("Name"), 200),
        company_domain=website_domain(account.get("Website")),
    )


class SalesforceSource:
    """An org's Contacts as a CRM source: every Contact first, then the ones changed since the last run."""

    def __init__(self, http: ConnectorHttp) -> None:
        self._client = SalesforceClient(http)

    @staticmethod
    def _soql(since: datetime | None) -> str:
        if since is None:
            return SalesforceClient.select("Contact", fields=CONTACT_FIELDS, ordered=True)
        return SalesforceClient.modified_since_soql("Contact", since, fields=CONTACT_FIELDS)

    async def people_page(self, *, since: datetime | None, cursor: str | None) -> PersonPage:
        """One batch of Contacts: the query's first, or the one at the locator ``cursor``."""
        soql = self._soql(since)
        try:
            page = await self._client.query_page(soql, next_records_url=cursor, batch_size=BATCH_SIZE)
        except PlatformValidationError as exc:
            if cursor is None or exc.platform_code != "INVALID_QUERY_LOCATOR":
                raise
            # The locator expired while the run was interrupted: read the run's query again from its start.
            page = await self._client.query_page(soql, batch_size=BATCH_SIZE)
        return PersonPage(people=tuple(person(r) for r in page.records), next_cursor=page.next_records_url)

    async def push_people(self, people: list[Mapping[str, str]]) -> dict[str, str]:
        """Write people as Contacts: the linked one by its Id, else the one with that email, else a new one; the
        Contact id of each, by email."""
        ids: dict[str, str] = {}
        for item in people:
            email = (item.get("email") or "").strip().lower()
            if not email:
                continue
            fields = {name: item[key] for key, name in PUSHED_FIELDS.items() if item.get(key)} | {"Email": email}
            linked = item.get(LINKED_ID)
            if linked and RECORD_ID.fullmatch(linked) and await self._update(linked, fields):
                ids[email] = linked
                continue
            found = await self._client.find_contacts_by_email(email)
            if found and await self._update(found[0].id, fields):
                ids[email] = found[0].id
                continue
            # LastName is required on a Contact.
            ids[email] = await self._client.create("Contact", {"LastName": email.split("@", 1)[0]} | fields)
        return ids

    async def _update(self, contact_id: str, fields: Mapping[str, str]) -> bool:
        """Update one Contact by Id; False when Salesforce no longer has it (deleted or merged away there)."""
        try:
            await self._client.update("Contact", contact_id, fields)
        except ConnectorError as exc:
            if exc.status == 404:
                return False
            raise
        return True


class SalesforceDriver:
    """Salesforce (Contacts with their Accounts) for the connection lifecycle and the CRM sync."""

    connector: Connector = get_connector("salesforce")

    def live_base_url(self, url_parts: Mapping[str, str]) -> str:
        """The org's instance (from its token response), else its My Domain host."""
        instance = url_parts.get("instance_url")
        if instance:
            return instance_origin(instance)
        my_domain = url_parts.get("my_domain") or url_parts.get("subdomain")
        if my_domain:
            live = self.connector.live_url(my_domain=my_domain.lower())  # validates the name
            return f"{urlsplit(live).scheme}://{urlsplit(live).netloc}"
        raise ValidationFailed(
            "The Salesforce org's instance URL is unknown for this connection.",
            field="platform",
            hint="Run integrations_connect for salesforce again: the authorization names the org.",
        )

    def sandbox_base_url(self, url_parts: Mapping[str, str]) -> str:
        """The simulator's (never resolved) origin: the client's paths carry /services/data/vXX.X."""
        parts = urlsplit(self.connector.sandbox_base_url)
        return f"{parts.scheme}://{parts.netloc}"

    def auth_headers(self, secret: Mapping[str, Any]) -> dict[str, str]:
        """Bearer with the OAuth access token (§10)."""
        return {"Authorization": f"Bearer {secret['access_token']}"}

    async def probe(self, http: ConnectorHttp, account_id: str | None) -> str:
        """Read one Contact: proves the token and API access to Contacts."""
        page = await SalesforceClient(http).query_page(SalesforceClient.select("Contact", limit=1))
        found = "a contact" if page.records else "no contacts"
        return f"Salesforce org {account_id or '?'} answered: {found} readable."

    def source(self, http: ConnectorHttp) -> SalesforceSource:
        """The org's Contacts as a CRM source."""
        return SalesforceSource(http)

    def new_simulator(self, clock: Callable[[], datetime]) -> Simulator:
        """An empty Salesforce simulator."""
        return SalesforceSimulator(tokens={}, clock=clock)

    def sandbox_account(self, tenant_id: str) -> SandboxAccount:
        """An org id per tenant (15 characters, key prefix 00D)."""
        org = "00DRO" + tenant_number(tenant_id, 10)
        return SandboxAccount(account_id=org, label=f"Salesforce sandbox org {org}", url_parts={})

    def seed_sandbox(self, simulator: Simulator, account: SandboxAccount, now: datetime) -> None:
        """Five demo Contacts, each with its Account, and three Opportunities (open, won, lost), once per org."""
        assert isinstance(simulator, SalesforceSimulator)
        org = account.account_id
        if simulator.org(org).records["Contact"]:
            return
        contact_ids = []
        for index, (email, first, last, title, phone, company) in enumerate(_DEMO_PEOPLE):
            domain = email.split("@", 1)[1]
            industry, size, country = _DEMO_ACCOUNTS[index]
            account_id = simulator.seed(
                org,
                "Account",
                {
                    "Name": f"{company} Demo",
                    "Website": f"https://www.{domain}",
                    "Industry": industry,
                    "NumberOfEmployees": size,
                    "BillingCountry": country,
                },
                at=now - timedelta(days=40 - index),
            )
            contact_id = simulator.seed(
                org,
                "Contact",
                {
                    "Email": email,
                    "FirstName": first,
                    "LastName": last,
                    "Title": title,
                    "Phone": phone,
                    "AccountId": account_id,
                },
                at=now - timedelta(days=30 - index),
            )
            contact_ids.append((contact_id, account_id))
        for index, (name, stage, amount, person_index) in enumerate(_DEMO_OPPORTUNITIES):
            contact_id, account_id = contact_ids[person_index]
            at = now - timedelta(days=10 - index)
            opportunity_id = simulator.seed(
                org,
                "Opportunity",
                {
                    "Name": name,
                    "StageName": stage,
                    "Amount": amount,
                    "CloseDate": (now + timedelta(days=30)).date().isoformat(),
                    "AccountId": account_id,
                },
                at=at,
            )
            simulator.seed(
                org,
                "OpportunityContactRole",
                {"OpportunityId": opportunity_id, "ContactId": contact_id, "Role": "Decision Maker", "IsPrimary": True},
                at=at,
            )
