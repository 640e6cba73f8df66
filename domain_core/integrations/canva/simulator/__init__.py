"""An in-process Canva Connect simulator (Starlette), stateful per user, for contract tests and sandbox mode."""

from promptsales.domain_core.integrations.canva.simulator.app import CanvaSimulator

__all__ = ["CanvaSimulator"]
