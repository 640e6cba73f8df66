"""Composition root of the integrations context: drivers, sandbox simulators, app credentials, facade."""

import json
from collections.abc import Mapping

import httpx

from promptsales.domain_core.crm.facade import CrmFacade
from promptsales.domain_core.infrastructure.credentials import CredentialStore
from promptsales.domain_core.infrastructure.rate_limit import RateLimiter
from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.domain_core.infrastructure.uow import UnitOfWorkFactory
from promptsales.domain_core.integrations.adobe_express.driver import AdobeExpressDriver
from promptsales.domain_core.integrations.budget import PlatformBudget
from promptsales.domain_core.integrations.canva.driver import CanvaDriver
from promptsales.domain_core.integrations.crm_push import CrmPush
from promptsales.domain_core.integrations.drivers import Driver
from promptsales.domain_core.integrations.email_campaigns import EmailCampaigns
from promptsales.domain_core.integrations.facade import IntegrationsFacade, LivePolicy
from promptsales.domain_core.integrations.google_ads.driver import GoogleAdsDriver
from promptsales.domain_core.integrations.hubspot.crm_sync import HubSpotCrmSync
from promptsales.domain_core.integrations.hubspot.driver import HubSpotDriver, HubSpotSource
from promptsales.domain_core.integrations.hubspot.webhooks import HubSpotWebhooks
from promptsales.domain_core.integrations.linkedin_ads.driver import LinkedInAdsDriver
from promptsales.domain_core.integrations.mailchimp.audience_sync import AudienceSyncEngine
from promptsales.domain_core.integrations.mailchimp.driver import MailchimpDriver
from promptsales.domain_core.integrations.mailchimp.webhook_handler import MailchimpWebhooks
from promptsales.domain_core.integrations.messaging import Channel, Messaging
from promptsales.domain_core.integrations.meta_ads.driver import MetaAdsDriver
from promptsales.domain_core.integrations.oauth.client import AppCredentials
from promptsales.domain_core.integrations.salesforce.crm_sync import SalesforceCrmSync
from promptsales.domain_core.integrations.salesforce.driver import SalesforceDriver, SalesforceSource
from promptsales.domain_core.integrations.salesforce.webhooks import SalesforceWebhooks
from promptsales.domain_core.integrations.sandbox import Sandbox
from promptsales.domain_core.integrations.sessions import Sessions
from promptsales.domain_core.integrations.sync_engines import SyncEngine
from promptsales.domain_core.integrations.tiktok_ads.driver import TikTokAdsDriver
from promptsales.domain_core.integrations.twilio.channel import SmsChannel
from promptsales.domain_core.integrations.twilio.driver import TwilioDriver
from promptsales.domain_core.integrations.twilio.webhook_handler import TwilioWebhooks
from promptsales.domain_core.integrations.twilio.webhook_handler import loop_back as twilio_loop_back
from promptsales.domain_core.integrations.webhooks import Webhooks
from promptsales.domain_core.integrations.whatsapp.channel import WhatsAppChannel
from promptsales.domain_core.integrations.whatsapp.driver import WhatsAppDriver
from promptsales.domain_core.integrations.whatsapp.webhook_handler import WhatsAppWebhooks, loop_back
from promptsales.domain_core.integrations.zendesk.driver import ZendeskDriver
from promptsales.domain_core.integrations.zendesk.support_sync import SupportSync, SupportSyncEngine
from promptsales.domain_core.integrations.zendesk.webhooks import ZendeskWebhooks
from promptsales.domain_core.shared.clock import utc_now
from promptsales.domain_core.shared.errors import ValidationFailed


def drivers(apps: Mapping[str, AppCredentials] | None = None) -> Mapping[str, Driver]:
    """The platforms the core can connect today, by id (``apps``: the deployment's registered apps)."""
    google = (apps or {}).get("google_ads")
    return {
        "hubspot": HubSpotDriver(),
        "salesforce": SalesforceDriver(),
        "zendesk": ZendeskDriver(),
        "mailchimp": MailchimpDriver(),
        "canva": CanvaDriver(),
        "adobe_express": AdobeExpressDriver(),
        "whatsapp": WhatsAppDriver(),
        "twilio": TwilioDriver(),
        "google_ads": GoogleAdsDriver(
            developer_token=google.developer_token if google else None,
            login_customer_id=google.login_customer_id if google else None,
        ),
        "meta_ads": MetaAdsDriver(),
        "tiktok_ads": TikTokAdsDriver(),
        "linkedin_ads": LinkedInAdsDriver(),
    }


def parse_apps(raw: str | None) -> dict[str, AppCredentials]:
    """``PROMPTSALES_INTEGRATIONS_APPS``: {platform: {client_id, client_secret, webhook_secret?}}; google_ads also
    takes ``developer_token`` and ``login_customer_id``."""
    if not raw:
        return {}
    try:
        document = json.loads(raw)
        return {
            platform: AppCredentials(
                client_id=str(entry["client_id"]),
                client_secret=str(entry["client_secret"]),
                webhook_secret=str(entry["webhook_secret"]) if entry.get("webhook_secret") else None,
                developer_token=str(entry["developer_token"]) if entry.get("developer_token") else None,
                login_customer_id=str(entry["login_customer_id"]) if entry.get("login_customer_id") else None,
            )
            for platform, entry in document.items()
        }
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ValidationFailed(
            "PROMPTSALES_INTEGRATIONS_APPS is not valid JSON of {platform: {client_id, client_secret}}.",
            field="integrations_apps",
        ) from None


def build_integrations(
    uow: UnitOfWorkFactory,
    settings: Settings,
    *,
    crm: CrmFacade,
    live_allowed: LivePolicy,
    limiter: RateLimiter | None,
    live_transport: httpx.AsyncBaseTransport | None = None,
) -> IntegrationsFacade:
    """The integrations facade; sandbox simulators are created on first use."""
    apps = parse_apps(settings.integrations_apps.get_secret_value() if settings.integrations_apps else None)
    known = drivers(apps)
    keys = settings.key_ring()
    sessions = Sessions(
        uow,
        CredentialStore(keys),
        drivers=known,
        sandbox=Sandbox(known, clock=utc_now),
        apps=apps,
        public_url=settings.public_url,
        budget=PlatformBudget(limiter) if limiter is not None else None,
        live_transport=live_transport,
        clock=utc_now,
    )
    # What each platform syncs, and whose webhooks are served: one line per platform and capability.
    engines: dict[str, dict[str, SyncEngine]] = {
        "hubspot": {"crm_sync": HubSpotCrmSync(uow, crm)},
        "salesforce": {"crm_sync": SalesforceCrmSync(uow, crm)},
        "zendesk": {"support_sync": SupportSyncEngine(uow, crm)},
        "mailchimp": {"email_marketing": AudienceSyncEngine(uow, crm, keys, public_url=settings.public_url)},
    }
    webhooks = Webhooks({"hubspot": HubSpotWebhooks(uow, sessions, crm)})
    webhooks.add("zendesk", ZendeskWebhooks(uow, sessions, SupportSync(uow, crm)))
    webhooks.add("salesforce", SalesforceWebhooks(uow, sessions, crm))
    webhooks.add("mailchimp", MailchimpWebhooks(uow, keys, crm))
    # CRM changes go out to the CRM platforms that take pushes.
    push = CrmPush(uow, sessions, crm, {"hubspot": HubSpotSource, "salesforce": SalesforceSource})
    # Messages to and from CRM contacts (WhatsApp, SMS on Twilio): sends, and the webhooks that bring replies and
    # statuses (in sandbox mode the simulators' callbacks come back through the same webhook path).
    channels: dict[str, Channel] = {"whatsapp": WhatsAppChannel(), "sms": SmsChannel(public_url=settings.public_url)}
    messaging = Messaging(uow, sessions, crm, channels)
    webhooks.add("whatsapp", WhatsAppWebhooks(uow, sessions, messaging))
    webhooks.add("twilio", TwilioWebhooks(uow, sessions, messaging))
    loop_back(sessions.sandbox, webhooks, public_url=settings.public_url)
    twilio_loop_back(sessions.sandbox, webhooks, public_url=settings.public_url)
    email_campaigns = EmailCampaigns(uow, sessions, crm)  # from approved copy (the source is wired by the runtime)
    return IntegrationsFacade(
        uow,
        sessions,
        keys,
        live_allowed=live_allowed,
        default_mode=settings.integrations_mode,
        engines=engines,
        webhooks=webhooks,
        push=push,
        messaging=messaging,
        email_campaigns=email_campaigns,
    )
