"""The layer and boundary rules of ARCHITECTURE §3 hold (import-linter)."""

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_import_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint_imports)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "broken" in result.stdout and " 0 broken" in result.stdout


# What another context may import of a context: its public surface (ARCHITECTURE §3, "only through its facade").
PUBLIC_SURFACE = {"__init__", "facade", "dto", "commands"}


def _contexts() -> dict[str, set[str]]:
    """Each context folder (one with a facade) and its internal modules and packages."""
    contexts = {}
    for folder in sorted((ROOT / "domain_core").iterdir()):
        if (folder / "facade.py").exists():
            names = {path.stem for path in folder.iterdir() if path.suffix == ".py" or (path / "__init__.py").exists()}
            contexts[folder.name] = names - PUBLIC_SURFACE
    return contexts


def test_every_context_pair_has_a_facade_only_contract_covering_every_internal_module() -> None:
    """A new context or a new internal module cannot slip past the facade rule unnoticed."""
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    contexts = _contexts()
    assert {"crm", "business", "content"} <= set(contexts)
    for source in contexts:
        forbidden = {
            module
            for contract in contracts
            if contract["type"] == "forbidden" and f"promptsales.domain_core.{source}" in contract["source_modules"]
            for module in contract["forbidden_modules"]
        }
        for other, internals in contexts.items():
            if other == source:
                continue
            missing = {f"promptsales.domain_core.{other}.{name}" for name in internals} - forbidden
            assert not missing, f"{source} may import {sorted(missing)}: add them to its facade-only contract"
