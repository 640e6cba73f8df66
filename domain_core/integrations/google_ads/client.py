"""A thin Google Ads API client (REST transport) over :class:`ConnectorHttp`: GAQL search and per-service mutate.

Wire shapes: shared/reference/platform_apis.md §2 (Google Ads API, v26):

* base ``https://googleads.googleapis.com/v26``; every call carries ``Authorization: Bearer`` (the ConnectorHttp's
  ``auth``), ``developer-token`` and, when acting through a manager account, ``login-customer-id`` (10 digits, no
  dashes) (§2 "Headers on every call"). The developer token is registered as a secret, so no error text shows it;
* accounts: ``GET /customers:listAccessibleCustomers`` → ``{resourceNames: ["customers/1234567890"]}`` (§2 auth
  scope; response shape checked on developers.google.com ListAccessibleCustomersResponse);
* search: ``POST /customers/{cid}/googleAds:search`` ``{query, pageToken?}`` → ``{results, nextPageToken?,
  fieldMask}``; rows are camelCase, int64 values are JSON strings (§2 "JSON casing/types"). ``pageSize`` is not
  sent: it fails with PAGE_SIZE_NOT_SUPPORTED since v17 (§2 "Search"). A search is a read sent by POST, so it is
  declared idempotent and retried by the policy on 429/5xx;
* mutate: ``POST /customers/{cid}/{service}:mutate`` ``{operations:[{create}|{update, updateMask}|{remove}],
  responseContentType}`` → ``{results:[{resourceName, <resource>?}]}``, all or nothing (§2 "Mutate pattern"); with
  ``MUTABLE_RESOURCE`` each result also holds the mutated resource (developers.google.com MutateCampaignResult).
  Google takes no idempotency key (§2 "Idempotency": none), so ConnectorHttp sends a mutate ONCE: a timed-out or
  5xx'd create may have been applied, and sending it again could create a second campaign. Callers recover by
  looking the object up by its unique name instead (the adapter does);
* Customer Match (googleads/google-ads-python protos: UserListService, OfflineUserDataJobService; developers.google.com
  …/remarketing/audience-segments/customer-match/get-started): a CRM-based user list is made through
  ``userLists:mutate`` (``crmBasedUserList{uploadKeyType: CONTACT_INFO, dataSourceType: FIRST_PARTY}``,
  ``membershipLifeSpan``); members go through an offline user data job: ``POST /customers/{cid}/
  offlineUserDataJobs:create`` ``{job: {type: CUSTOMER_MATCH_USER_LIST, customerMatchUserListMetadata: {userList,
  consent?}}}`` → ``{resourceName}``, ``POST /{job}:addOperations`` ``{operations: [{create: {userIdentifiers:
  [{hashedEmail} | {hashedPhoneNumber}]}}], enablePartialFailure}`` (≤100,000 identifiers a request [~]), then
  ``POST /{job}:run`` → a long-running operation ``{name}``. Google matches in the background (hours [~]); the
  list's ``size_for_search`` / ``size_for_display`` read back by GAQL. The job calls are sent once: a job is
  single-use, so a lost answer is not repeated;
* money is in micros of the account currency: 1 unit = 1,000,000 micros (§2 "Budget create": amountMicros);
* errors: the Google RPC envelope with a GoogleAdsFailure (§2 "Errors"), read by ConnectorHttp/ErrorBody, which
  names the failing field from ``location.fieldPathElements``.
"""

import re
from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import ROUND_DOWN, Decimal
from typing import Any, Literal, Self

from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.model.connectors import get_connector
from promptsales.domain_core.integrations.views import FrozenView

MICROS = Decimal(1_000_000)
MUTATE_SERVICES = frozenset(
    {
        "campaignBudgets",
        "campaigns",
        "adGroups",
        "adGroupAds",
        "campaignCriteria",
        "adGroupCriteria",
        "assets",
        "adGroupAssets",
        "userLists",
    }
)
_JOB = re.compile(r"customers/\d{10}/offlineUserDataJobs/\d{1,19}")
OPERATIONS_PER_MUTATE_MAX = 10_000  # §2 quotas: mutate requests take at most 10,000 operations [~]
_CUSTOMER_ID = re.compile(r"\d{10}")

Row = Mapping[str, Any]


def customer_id(value: str) -> str:
    """A customer id as the API wants it: 10 digits, dashes removed; ValueError otherwise."""
    digits = value.replace("-", "").strip()
    if not _CUSTOMER_ID.fullmatch(digits):
        raise ValueError("a Google Ads customer id is 10 digits (dashes allowed)")
    return digits


def to_micros(amount: Decimal) -> str:
    """An amount in the account currency as an int64 micros string (the JSON form of int64)."""
    micros = amount * MICROS
    if micros != micros.to_integral_value():
        raise ValueError("an amount finer than one micro cannot be sent to Google Ads")
    return str(int(micros))


def from_micros(value: object) -> Decimal:
    """Micros (a digit string or an int, as rows carry them) as an amount in the account currency."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return Decimal(0)
    try:
        return (Decimal(int(value)) / MICROS).quantize(Decimal("0.000001"), rounding=ROUND_DOWN).normalize()
    except ValueError:
        return Decimal(0)


def gaql_string(value: str) -> str:
    """``value`` as a GAQL single-quoted literal (backslashes and quotes escaped) [~ GAQL grammar]."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def field(row: Row, path: str) -> Any:
    """The value at a dotted camelCase path of a row (``"campaign.id"``), or None."""
    node: Any = row
    for part in path.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


class SearchPage(FrozenView):
    """One page of a GAQL search: its rows (camelCase mappings) and the token of the next page (None: last)."""

    rows: tuple[dict[str, Any], ...]
    next_page_token: str | None = None


class MutateResult(FrozenView):
    """One operation's result: the resource name, and the resource itself when MUTABLE_RESOURCE was asked."""

    resource_name: str
    resource: dict[str, Any] | None = None

    @property
    def id(self) -> str:
        """The last part of the resource name (for ad group ads: ``{adGroupId}~{adId}``)."""
        return self.resource_name.rsplit("/", 1)[-1]


class GoogleAdsClient:
    """GAQL search, per-service mutate and the accessible customers, for one OAuth connection."""

    def __init__(self, http: ConnectorHttp, *, developer_token: str, login_customer_id: str | None = None) -> None:
        if not developer_token:
            raise ValueError("a developer token is required for every Google Ads call")
        self._http = http
        self._developer_token = developer_token
        self._login_customer_id = customer_id(login_customer_id) if login_customer_id else None

    @classmethod
    def connect(
        cls,
        *,
        tenant_id: str,
        developer_token: str,
        login_customer_id: str | None = None,
        base_url: str | None = None,
        **http_options: Any,
    ) -> Self:
        """A client on the live API (or ``base_url``); ``http_options`` go to ConnectorHttp (auth, transport, …).
        The developer token is added to the secrets the ConnectorHttp redacts."""
        connector = get_connector("google_ads")
        secrets = (*tuple(http_options.pop("secrets", ())), developer_token)
        http = ConnectorHttp(
            connector, base_url=base_url or connector.live_url(), tenant_id=tenant_id, secrets=secrets, **http_options
        )
        return cls(http, developer_token=developer_token, login_customer_id=login_customer_id)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    def _headers(self) -> dict[str, str]:
        headers = {"developer-token": self._developer_token}
        if self._login_customer_id is not None:
            headers["login-customer-id"] = self._login_customer_id
        return headers

    async def list_accessible_customers(self) -> list[str]:
        """The customer ids the authenticated user can reach directly."""
        response = await self._http.request("GET", "/customers:listAccessibleCustomers", headers=self._headers())
        document = response.json()
        names = document.get("resourceNames") if isinstance(document, dict) else None
        found: list[str] = []
        for name in names if isinstance(names, list) else []:
            if isinstance(name, str) and name.startswith("customers/"):
                found.append(customer_id(name.removeprefix("customers/")))
        return found

    async def search_page(self, customer: str, query: str, *, page_token: str | None = None) -> SearchPage:
        """One page of a GAQL query's rows."""
        body: dict[str, Any] = {"query": query}
        if page_token is not None:
            body["pageToken"] = page_token
        response = await self._http.request(
            "POST",
            f"/customers/{customer_id(customer)}/googleAds:search",
            json_body=body,
            headers=self._headers(),
            idempotent_write=True,  # a read sent by POST: repeating it changes nothing
        )
        document = response.json()
        if not isinstance(document, dict):
            raise ValueError("Google Ads answered a search with something other than an object")
        rows = document.get("results")
        token = document.get("nextPageToken")
        return SearchPage(
            rows=tuple(r for r in rows if isinstance(r, dict)) if isinstance(rows, list) else (),
            next_page_token=token if isinstance(token, str) and token else None,
        )

    async def search(self, customer: str, query: str) -> AsyncIterator[dict[str, Any]]:
        """Every row of a GAQL query, following ``nextPageToken`` to the end."""
        token: str | None = None
        seen: set[str] = set()
        while True:
            page = await self.search_page(customer, query, page_token=token)
            for row in page.rows:
                yield row
            if page.next_page_token is None or page.next_page_token in seen:
                return
            seen.add(page.next_page_token)
            token = page.next_page_token

    async def search_all(self, customer: str, query: str) -> list[dict[str, Any]]:
        """Every row of a GAQL query as a list."""
        return [row async for row in self.search(customer, query)]

    async def mutate(
        self,
        customer: str,
        service: str,
        operations: Sequence[Mapping[str, Any]],
        *,
        content: Literal["RESOURCE_NAME_ONLY", "MUTABLE_RESOURCE"] = "MUTABLE_RESOURCE",
    ) -> list[MutateResult]:
        """Apply ``operations`` to ``service`` (all or nothing); sent once, never retried (see the module doc)."""
        if service not in MUTATE_SERVICES:
            raise ValueError(f"unsupported mutate service {service!r}")
        if not 0 < len(operations) <= OPERATIONS_PER_MUTATE_MAX:
            raise ValueError(f"a mutate takes 1-{OPERATIONS_PER_MUTATE_MAX} operations")
        response = await self._http.request(
            "POST",
            f"/customers/{customer_id(customer)}/{service}:mutate",
            json_body={"operations": list(operations), "responseContentType": content},
            headers=self._headers(),
        )
        document = response.json()
        results = document.get("results") if isinstance(document, dict) else None
        if not isinstance(results, list) or len(results) != len(operations):
            raise ValueError("Google Ads answered a mutate without one result per operation")
        found: list[MutateResult] = []
        for result in results:
            if not isinstance(result, dict) or not isinstance(result.get("resourceName"), str):
                raise ValueError("Google Ads answered a mutate result without a resource name")
            resource = next((v for k, v in result.items() if k != "resourceName" and isinstance(v, dict)), None)
            found.append(MutateResult(resource_name=result["resourceName"], resource=resource))
        return found

    # --- Customer Match: offline user data jobs ------------------------------------------------------------------

    async def _job_call(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        response = await self._http.request("POST", path, json_body=dict(body), headers=self._headers())
        document = response.json()
        if not isinstance(document, dict):
            raise ValueError("Google Ads answered an offline user data job call with something other than an object")
        return document

    async def create_customer_match_job(self, customer: str, user_list: str) -> str:
        """A CUSTOMER_MATCH_USER_LIST job for the user list ``customers/…/userLists/…``; the job's resource name."""
        document = await self._job_call(
            f"/customers/{customer_id(customer)}/offlineUserDataJobs:create",
            {"job": {"type": "CUSTOMER_MATCH_USER_LIST", "customerMatchUserListMetadata": {"userList": user_list}}},
        )
        name = document.get("resourceName")
        if not isinstance(name, str) or not _JOB.fullmatch(name):
            raise ValueError("Google Ads answered a job create without a job resource name")
        return name

    async def add_job_identifiers(self, job: str, identifiers: Sequence[Mapping[str, str]]) -> None:
        """Add one member per identifier (``{hashedEmail}`` or ``{hashedPhoneNumber}``) to the job."""
        if not _JOB.fullmatch(job):
            raise ValueError("not an offline user data job resource name")
        if not 0 < len(identifiers) <= OPERATIONS_PER_MUTATE_MAX:
            raise ValueError(f"a job takes 1-{OPERATIONS_PER_MUTATE_MAX} identifiers a request here")
        operations = [{"create": {"userIdentifiers": [dict(i)]}} for i in identifiers]
        await self._job_call(f"/{job}:addOperations", {"operations": operations})  # all or nothing

    async def run_job(self, job: str) -> str:
        """Start the job; the long-running operation's name."""
        if not _JOB.fullmatch(job):
            raise ValueError("not an offline user data job resource name")
        document = await self._job_call(f"/{job}:run", {})
        name = document.get("name")
        if not isinstance(name, str) or not name:
            raise ValueError("Google Ads answered a job run without an operation name")
        return name
