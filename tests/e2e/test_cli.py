"""The ``promptsales`` command line as a user types it: help, schema upgrade, CSV import and demo data."""

import importlib.util
import re
import subprocess
from pathlib import Path

import pytest

from .conftest import TENANT, base_env, run_cli

pytestmark = pytest.mark.slow


def _screen(result: subprocess.CompletedProcess[str]) -> str:
    """What the user sees (stdout and stderr), with rich's line wrapping undone."""
    return re.sub(r"\s+", " ", f"{result.stdout}\n{result.stderr}")


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_help_lists_every_command(tmp_path: Path) -> None:
    result = run_cli("--help", env=base_env(tmp_path / "data"))
    assert result.returncode == 0, result.stderr
    assert "Commands" in result.stdout, result.stdout
    listing = result.stdout.split("Commands", 1)[1]
    commands = set(re.findall(r"^\W*(\w+)\s{2,}\S", listing, flags=re.MULTILINE))
    assert {"serve", "db", "demo", "crm"} <= commands, result.stdout


def test_db_upgrade_creates_the_sqlite_database(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh"  # does not exist yet
    result = run_cli("db", "upgrade", env=base_env(data_dir))
    assert result.returncode == 0, _screen(result)
    assert "Database is at the latest schema." in _screen(result)
    database = data_dir / "promptsales.db"
    assert database.is_file()
    assert database.stat().st_size > 0


def test_crm_import_reports_counts_and_bad_rows_then_is_idempotent(tmp_path: Path) -> None:
    csv_file = _write(
        tmp_path / "leads.csv",
        "email,first_name,company,phone\n"
        "ann@example.com,Ann,Acme,\n"
        "bob@example.com,Bob,Beta,\n"
        ",Cy,Gamma,+14155550123\n"
        "not-an-email,Dee,Delta,\n",
    )
    env = base_env(tmp_path / "data")

    first = run_cli("crm", "import", str(csv_file), env=env)
    screen = _screen(first)
    assert first.returncode == 0, screen
    assert "created 3, updated 0, unchanged 0, rejected 1 of 4 rows" in screen
    assert "row 4: email is not a valid email address" in screen
    assert "Traceback" not in screen

    second = run_cli("crm", "import", str(csv_file), env=env)
    screen = _screen(second)
    assert second.returncode == 0, screen
    assert "created 0, updated 0, unchanged 3, rejected 1 of 4 rows" in screen
    assert "row 4:" in screen


def test_crm_import_without_email_or_phone_column_fails_cleanly(tmp_path: Path) -> None:
    csv_file = _write(tmp_path / "contacts.csv", "name,company\nAnn,Acme\n")
    result = run_cli("crm", "import", str(csv_file), env=base_env(tmp_path / "data"))
    screen = _screen(result)
    assert result.returncode == 1, screen
    assert "The CSV header needs an 'email' or a 'phone' column." in screen
    assert "Known columns:" in screen
    assert "Traceback" not in screen
    assert "ValidationFailed" not in screen


@pytest.mark.skipif(importlib.util.find_spec("promptsales.servers.demo") is None, reason="servers/demo.py not there")
def test_demo_seeds_the_configured_tenant(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    result = run_cli("demo", env=base_env(data_dir))
    screen = _screen(result)
    assert result.returncode == 0, screen
    assert f"Demo data ready for tenant '{TENANT}'" in screen
    assert re.search(r"\b[1-9]\d* leads\b", screen), screen
    assert (data_dir / "promptsales.db").is_file()


def test_keys_generate_prints_a_usable_entry() -> None:
    import subprocess
    import sys
    from pathlib import Path

    from promptsales.domain_core.infrastructure.crypto import KeyRing

    cli = Path(sys.executable).parent / "promptsales"
    done = subprocess.run(
        [str(cli), "keys", "generate", "--key-id", "k2026"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    entry = done.stdout.strip()
    assert KeyRing.parse(entry).active == "k2026"
    bad = subprocess.run(
        [str(cli), "keys", "generate", "--key-id", "no spaces!"], capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 1 and "key id" in bad.stderr
