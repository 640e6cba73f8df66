"""An in-process Adobe Firefly Services simulator (IMS token, generate/status, output host) for contract tests and
sandbox mode."""

from promptsales.domain_core.integrations.adobe_express.simulator.app import AdobeExpressSimulator

__all__ = ["AdobeExpressSimulator"]
