"""The HTTP server on PostgreSQL, deployed as documented: ``promptsales db upgrade`` first, then ``serve``.

Needs PostgreSQL on 127.0.0.1:5432 (user ``postgres``, trust auth; override with
``PROMPTSALES_TEST_PG_ADMIN_URL``). Each run creates its own database and drops it afterwards.
"""

from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from sqlalchemy.engine import make_url

from .conftest import (
    ERAS,
    PG_ADMIN_DSN,
    TENANT,
    ServerProcess,
    base_env,
    capture_arguments,
    fresh_postgres_database,
    mcp_http_session,
    run_cli,
    stop_all,
    unique_email,
)

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def _database_dsn(name: str) -> str:
    return psycopg.conninfo.make_conninfo(PG_ADMIN_DSN, dbname=name)


@pytest.fixture(scope="module")
def pg_database() -> Iterator[str]:
    """A fresh, empty database."""
    yield from fresh_postgres_database("promptsales_e2e")


@pytest.fixture(scope="module")
def pg_env(pg_database: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    url = make_url(PG_ADMIN_DSN).set(drivername="postgresql+psycopg", database=pg_database)
    return base_env(
        tmp_path_factory.mktemp("pg-data"), PROMPTSALES_DATABASE_URL=url.render_as_string(hide_password=False)
    )


@pytest.fixture(scope="module")
def pg_server(pg_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    upgrade = run_cli("db", "upgrade", env=pg_env)
    assert upgrade.returncode == 0, f"db upgrade failed:\n{upgrade.stdout}\n{upgrade.stderr}"
    assert "Database is at the latest schema." in upgrade.stderr + upgrade.stdout
    server = ServerProcess(Path(pg_env["PROMPTSALES_DATA_DIR"]), env=pg_env)
    try:
        server.start()
        yield server
    finally:
        stop_all(server)


def test_ready_on_postgres(pg_server: ServerProcess) -> None:
    ready = httpx.get(f"{pg_server.base_url}/readyz", timeout=5)
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready"}


@pytest.mark.parametrize("era", ERAS)
async def test_capture_and_get_persist_in_postgres(pg_server: ServerProcess, pg_database: str, era: str) -> None:
    email = unique_email(f"pg{era.replace('-', '')}")
    async with mcp_http_session(pg_server.mcp_url, era) as session:
        captured = await session.call_tool("crm_capture_lead", capture_arguments(email))
        lead_id = (captured.structured_content or {}).get("lead", {}).get("id", "ld_00000000000000000000000000")
        fetched = await session.call_tool("crm_get_lead", {"lead_id": lead_id})

    assert captured.is_error is False, captured.content
    assert captured.structured_content is not None
    assert captured.structured_content["created"] is True
    assert fetched.is_error is False, fetched.content
    assert fetched.structured_content is not None
    assert fetched.structured_content["id"] == lead_id

    # Straight from the database (as the owner, which bypasses row-level security).
    with psycopg.connect(_database_dsn(pg_database), autocommit=True, connect_timeout=5) as owner:
        lead_row = owner.execute(
            "SELECT tenant_id, contact_id, source_channel FROM crm_leads WHERE id = %s", (lead_id,)
        ).fetchone()
        tenant_leads = owner.execute("SELECT count(*) FROM crm_leads WHERE tenant_id = %s", (TENANT,)).fetchone()
    assert lead_row is not None
    assert lead_row[0] == TENANT
    assert lead_row[1] == captured.structured_content["contact"]["id"]
    assert lead_row[2] == "web_form"
    assert tenant_leads is not None
    assert tenant_leads[0] >= 1
