"""An in-process Google Ads API simulator (Starlette), stateful per test customer, for contract tests and sandbox."""

from promptsales.domain_core.integrations.google_ads.simulator.app import GoogleAdsSimulator

__all__ = ["GoogleAdsSimulator"]
