"""An in-process Salesforce REST simulator (Starlette), stateful per org, for contract tests and sandbox mode."""

from promptsales.domain_core.integrations.salesforce.simulator.app import SalesforceSimulator

__all__ = ["SalesforceSimulator"]
