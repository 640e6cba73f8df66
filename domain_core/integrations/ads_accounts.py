"""The ads surface other contexts use (campaigns activates and measures here): one tenant's ads on one platform.

Every call goes through :meth:`Sessions.run`, so a refused token is refreshed once and a revoked one marks the
connection ``needs_reauth``; requests happen outside any transaction. Writes (create, status, budget, bid) are
checked here first — kind, status, sign and ceiling of every amount (:class:`AdLimits`) — so a bad value opens no
session and sends nothing; the adapter checks again with the account's currency. Each write then runs as paid work
under the caller's idempotency key (``mutate_paid``): a retried activation with the same key gets the stored object
back instead of creating a second one (the platforms take no idempotency key of their own), and the write is audited
with the platform object's id. A customer list is paid work the same way; its audit names the list and how many
digests went up, never the digests. Reads (accounts, daily performance, audience estimates) are not recorded.
"""

from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from datetime import date
from decimal import Decimal
from typing import Any, Protocol, TypeVar, runtime_checkable

from pydantic import BaseModel

from promptsales.domain_core.infrastructure.uow import UnitOfWork, UnitOfWorkFactory
from promptsales.domain_core.integrations.ads import (
    AdAccount,
    AdGroupSpec,
    AdObject,
    AdsPlatform,
    AudienceEstimate,
    AudienceRef,
    CampaignSpec,
    CreativeSpec,
    CustomerListSpec,
    DailyPerformance,
    DeliveryStatus,
    ObjectKind,
)
from promptsales.domain_core.integrations.commands import (
    CreateAd,
    CreateAdCampaign,
    CreateAdGroup,
    CreateCustomerList,
    SetAdBid,
    SetAdBudget,
    SetAdStatus,
)
from promptsales.domain_core.integrations.drivers import Driver
from promptsales.domain_core.integrations.http import ConnectorHttp
from promptsales.domain_core.integrations.model.ad_limits import (
    AdLimits,
    check_amount,
    check_kind,
    check_object_id,
    check_report,
    check_status,
)
from promptsales.domain_core.integrations.model.connectors import Capability, catalogue, get_connector
from promptsales.domain_core.integrations.model.customer_lists import (
    HASHES_PER_LIST_MAX,
    PHONE_FORMS,
    check_customer_list,
    hash_email,
    hash_phone,
)
from promptsales.domain_core.integrations.sessions import Link, Sessions
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.commands import Command
from promptsales.domain_core.shared.errors import ValidationFailed

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


@runtime_checkable
class AdsDriver(Protocol):
    """A driver whose platform runs ads: it builds the platform's adapter over one open session."""

    def ads(self, http: ConnectorHttp, link: Link, limits: AdLimits) -> AdsPlatform: ...


def ads_driver(sessions: Sessions, platform: str) -> AdsDriver:
    """The platform's ads driver, or an error naming the ad platforms that can be used."""
    driver: Driver = sessions.driver(platform)  # NotFound / not connectable yet, with hints
    if Capability.ADS not in get_connector(platform).capabilities or not isinstance(driver, AdsDriver):
        offered = sorted(
            p for p, c in catalogue().items() if Capability.ADS in c.capabilities and p in sessions.drivers
        )
        raise ValidationFailed(
            f"{get_connector(platform).display_name} does not run ads.",
            field="platform",
            hint=f"Ad platforms: {', '.join(offered)}.",
        )
    return driver


def _account(account_id: str) -> str:
    if not isinstance(account_id, str) or not 0 < len(account_id) <= 64 or not account_id.isprintable():
        raise ValidationFailed(
            "account_id must be an ad account id (1-64 characters).",
            field="account_id",
            hint="integrations_list_ad_accounts lists them.",
        )
    return account_id


class PlatformAds:
    """One tenant's ads on one platform (from :meth:`IntegrationsFacade.ads`); everything is created paused."""

    def __init__(
        self,
        uow: UnitOfWorkFactory,
        sessions: Sessions,
        caller: Caller,
        platform: str,
        *,
        limits: AdLimits,
    ) -> None:
        self._uow = uow
        self._sessions = sessions
        self._caller = caller
        self._driver = ads_driver(sessions, platform)
        self.platform = platform
        self.limits = limits

    async def _run(self, use: Callable[[AdsPlatform], Awaitable[T]]) -> T:
        def work(http: ConnectorHttp, link: Link) -> Awaitable[T]:
            return use(self._driver.ads(http, link, self.limits))

        return await self._sessions.run(self._caller, self.platform, work)

    async def _write(
        self,
        operation: str,
        command: Command,
        idempotency_key: str | None,
        call: Callable[[AdsPlatform], Awaitable[AdObject]],
        changes: dict[str, Any],
    ) -> AdObject:
        def target(made: AdObject) -> tuple[str, str, str]:
            return f"{self.platform}.{made.kind}", made.id, made.status

        return await self._paid(operation, command, idempotency_key, call, changes, AdObject, target)

    async def _paid(
        self,
        operation: str,
        command: Command,
        idempotency_key: str | None,
        call: Callable[[AdsPlatform], Awaitable[M]],
        changes: dict[str, Any],
        result_type: type[M],
        target: Callable[[M], tuple[str, str, str]],
    ) -> M:
        """One write as paid work under the idempotency key, audited with (target type, id, status) of the result."""
        action = f"integrations.ads.{operation}"

        async def prepare() -> M:
            return await self._run(call)

        async def record(uow: UnitOfWork, made: M) -> M:
            target_type, target_id, status = target(made)
            uow.audit(
                action,
                target_type=target_type,
                target_id=target_id[:64],
                changes={"platform": self.platform, **changes, "status": status},
            )
            return made

        return await self._uow.mutate_paid(
            self._caller,
            action=action,
            arguments=command,
            idempotency_key=idempotency_key,
            prepare=prepare,
            work=record,
            result_type=result_type,
        )

    # --- reads ---------------------------------------------------------------------------------------------------

    async def list_accounts(self) -> list[AdAccount]:
        """The ad accounts the connection can manage."""
        return list(await self._run(lambda ads: ads.list_accounts()))

    async def daily_performance(
        self, account_id: str, kind: ObjectKind, object_ids: Sequence[str], since: date, until: date
    ) -> list[DailyPerformance]:
        """One row per object and day, ``since`` to ``until`` (≤93 days, ≤100 ids; zeros where nothing ran)."""
        account = _account(account_id)
        check_kind(kind)
        ids = check_report(object_ids, since, until)
        return list(await self._run(lambda ads: ads.daily_performance(account, kind, ids, since, until)))

    async def estimate_audience(self, account_id: str, spec: AdGroupSpec) -> AudienceEstimate:
        """How many people ``spec``'s targeting (countries, ages, interests, customer lists) may reach."""
        account = _account(account_id)
        for audience_id in spec.audience_ids:
            check_object_id(audience_id, field="audience_ids")
        return await self._run(lambda ads: ads.estimate_audience(account, spec))

    # --- customer lists ------------------------------------------------------------------------------------------

    def customer_list_spec(self, name: str, *, emails: Sequence[str], phones: Sequence[str]) -> CustomerListSpec:
        """A customer list of raw emails and phones, normalised and hashed as this platform asks (identifiers that
        do not normalise, and phones where the platform takes none, are left out; at most the per-list cap)."""
        hashed_emails: list[str] = []
        for email in emails:
            with suppress(ValidationFailed):
                hashed_emails.append(hash_email(email))
        hashed_phones: list[str] = []
        if self.platform in PHONE_FORMS:
            for phone in phones:
                with suppress(ValidationFailed):
                    hashed_phones.append(hash_phone(phone, self.platform))
        unique_emails = tuple(dict.fromkeys(hashed_emails))[:HASHES_PER_LIST_MAX]
        room = HASHES_PER_LIST_MAX - len(unique_emails)
        return CustomerListSpec(
            name=name, hashed_emails=unique_emails, hashed_phones=tuple(dict.fromkeys(hashed_phones))[:room]
        )

    async def create_customer_list(
        self, account_id: str, spec: CustomerListSpec, *, idempotency_key: str | None = None
    ) -> AudienceRef:
        """A customer-match audience from hashed emails / phones (1-10,000 SHA-256 hex digests)."""
        account = _account(account_id)
        emails, phones = check_customer_list(spec.name, spec.hashed_emails, spec.hashed_phones)
        checked = spec.model_copy(update={"hashed_emails": emails, "hashed_phones": phones})
        command = CreateCustomerList(platform=self.platform, account_id=account, spec=checked)
        changes = {"account_id": account, "name": spec.name, "emails": len(emails), "phones": len(phones)}

        def target(made: AudienceRef) -> tuple[str, str, str]:
            return f"{self.platform}.customer_list", made.id, made.status

        return await self._paid(
            "create_customer_list",
            command,
            idempotency_key,
            lambda ads: ads.create_customer_list(account, checked),
            changes,
            AudienceRef,
            target,
        )

    # --- creates (paused) ----------------------------------------------------------------------------------------

    async def create_campaign(
        self, account_id: str, spec: CampaignSpec, *, idempotency_key: str | None = None
    ) -> AdObject:
        """A paused campaign with its daily budget."""
        account = _account(account_id)
        check_amount(spec.daily_budget, field="daily_budget", maximum=self.limits.max_daily_budget)
        command = CreateAdCampaign(platform=self.platform, account_id=account, spec=spec)
        changes = {"account_id": account, "name": spec.name, "daily_budget": str(spec.daily_budget)}
        return await self._write(
            "create_campaign", command, idempotency_key, lambda ads: ads.create_campaign(account, spec), changes
        )

    async def create_ad_group(
        self, account_id: str, campaign_id: str, spec: AdGroupSpec, *, idempotency_key: str | None = None
    ) -> AdObject:
        """A paused ad group / ad set under ``campaign_id`` with its targeting and optional bid."""
        account = _account(account_id)
        check_object_id(campaign_id, field="campaign_id")
        if spec.bid is not None:
            check_amount(spec.bid, field="bid", maximum=self.limits.max_bid)
        for audience_id in spec.audience_ids:
            check_object_id(audience_id, field="audience_ids")
        command = CreateAdGroup(platform=self.platform, account_id=account, campaign_id=campaign_id, spec=spec)
        changes = {
            "account_id": account,
            "campaign_id": campaign_id,
            "name": spec.name,
            "bid": _text(spec.bid),
            "audience_ids": list(spec.audience_ids),
        }
        return await self._write(
            "create_ad_group",
            command,
            idempotency_key,
            lambda ads: ads.create_ad_group(account, campaign_id, spec),
            changes,
        )

    async def create_ad(
        self, account_id: str, ad_group_id: str, creative: CreativeSpec, *, idempotency_key: str | None = None
    ) -> AdObject:
        """A paused ad under ``ad_group_id`` (its image, when given, uploaded to the platform first)."""
        account = _account(account_id)
        check_object_id(ad_group_id, field="ad_group_id")
        command = CreateAd(platform=self.platform, account_id=account, ad_group_id=ad_group_id, creative=creative)
        changes = {"account_id": account, "ad_group_id": ad_group_id, "name": creative.name}
        return await self._write(
            "create_ad", command, idempotency_key, lambda ads: ads.create_ad(account, ad_group_id, creative), changes
        )

    # --- changes -------------------------------------------------------------------------------------------------

    async def set_status(
        self,
        account_id: str,
        kind: ObjectKind,
        object_id: str,
        status: DeliveryStatus,
        *,
        idempotency_key: str | None = None,
    ) -> AdObject:
        """Pause, activate or remove a campaign, ad group or ad."""
        account = _account(account_id)
        check_kind(kind)
        check_status(status)
        check_object_id(object_id)
        command = SetAdStatus(platform=self.platform, account_id=account, kind=kind, object_id=object_id, status=status)
        return await self._write(
            "set_status",
            command,
            idempotency_key,
            lambda ads: ads.set_status(account, kind, object_id, status),
            {"account_id": account, "requested": status},
        )

    async def set_daily_budget(
        self, account_id: str, campaign_id: str, amount: Decimal, *, idempotency_key: str | None = None
    ) -> AdObject:
        """Set a campaign's daily budget (positive, at most the connection's ceiling)."""
        account = _account(account_id)
        check_object_id(campaign_id, field="campaign_id")
        value = check_amount(amount, field="daily_budget", maximum=self.limits.max_daily_budget)
        command = SetAdBudget(platform=self.platform, account_id=account, campaign_id=campaign_id, daily_budget=value)
        return await self._write(
            "set_daily_budget",
            command,
            idempotency_key,
            lambda ads: ads.set_daily_budget(account, campaign_id, value),
            {"account_id": account, "daily_budget": str(value)},
        )

    async def set_bid(
        self, account_id: str, ad_group_id: str, amount: Decimal, *, idempotency_key: str | None = None
    ) -> AdObject:
        """Set an ad group's bid (positive, at most the connection's ceiling)."""
        account = _account(account_id)
        check_object_id(ad_group_id, field="ad_group_id")
        value = check_amount(amount, field="bid", maximum=self.limits.max_bid)
        command = SetAdBid(platform=self.platform, account_id=account, ad_group_id=ad_group_id, bid=value)
        return await self._write(
            "set_bid",
            command,
            idempotency_key,
            lambda ads: ads.set_bid(account, ad_group_id, value),
            {"account_id": account, "bid": str(value)},
        )


def _text(amount: Decimal | None) -> str | None:
    return None if amount is None else str(amount)
