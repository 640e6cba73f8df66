"""The signed file host the design simulators serve their exports from."""

from promptsales.domain_core.integrations.file_host.simulator.app import SignedFileHost

__all__ = ["SignedFileHost"]
