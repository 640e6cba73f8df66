"""An in-process Meta Marketing API simulator (Starlette), stateful per ad account, for contract tests and sandbox."""

from promptsales.domain_core.integrations.meta_ads.simulator.app import MetaAdsSimulator

__all__ = ["MetaAdsSimulator"]
