"""The ``promptsales`` command line: serve, database, demo data and imports."""

import asyncio
import gc
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from promptsales.domain_core.infrastructure.logging import configure_logging
from promptsales.domain_core.infrastructure.schema import upgrade_to_head
from promptsales.domain_core.infrastructure.settings import CONTEXTS, Settings
from promptsales.domain_core.shared.caller import Caller
from promptsales.domain_core.shared.errors import DomainError
from promptsales.servers.auth_cli import auth_app

if TYPE_CHECKING:
    from fastmcp import FastMCP

    from promptsales.servers.toolsets import View

app = typer.Typer(help="PromptSales: MCP servers for AI-run sales and marketing.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
crm_app = typer.Typer(help="CRM utilities.", no_args_is_help=True)
keys_app = typer.Typer(help="Encryption keys for stored secrets.", no_args_is_help=True)
analytics_app = typer.Typer(help="Campaign analytics.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(crm_app, name="crm")
app.add_typer(keys_app, name="keys")
app.add_typer(analytics_app, name="analytics")
app.add_typer(auth_app, name="auth")
console = Console(stderr=True)


def _settings() -> Settings:
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    return settings


@app.command()
def serve(
    transport: Annotated[
        Literal["stdio", "http"], typer.Option(help="stdio for desktop clients; http for agents.")
    ] = "stdio",
    host: Annotated[str | None, typer.Option(help="HTTP bind address (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="HTTP port (default 8000).")] = None,
    context: Annotated[
        str | None, typer.Option(help=f"Comma-separated contexts to mount ({','.join(CONTEXTS)}).")
    ] = None,
    json_response: Annotated[
        bool, typer.Option("--json-response", help="Plain JSON responses (faster, no progress).")
    ] = False,
    toolsets: Annotated[
        str | None,
        typer.Option(
            help=f"Show clients only these toolsets (comma-separated: {','.join(CONTEXTS)}).", show_default=False
        ),
    ] = None,
    tools: Annotated[
        str | None,
        typer.Option(help="Show clients only these tools (exact names, comma-separated).", show_default=False),
    ] = None,
    read_only: Annotated[
        bool, typer.Option("--read-only", help="Hide and refuse every tool that changes data.")
    ] = False,
    compact: Annotated[
        bool, typer.Option("--compact", help="Three meta-tools (search, describe, call) for small-context clients.")
    ] = False,
) -> None:
    """Serve the suite (gateway with every enabled context)."""
    from promptsales.servers.gateway import build_gateway
    from promptsales.servers.runtime import Runtime
    from promptsales.servers.views import install_tool_views

    settings = _settings()
    if context:
        overrides: dict[str, Any] = {"toolsets": context}
        settings = Settings(**overrides)
    auth = None
    if transport == "http":
        from promptsales.servers.auth import AuthConfigError, bound_settings, build_auth, is_loopback

        bind = host or settings.http_host
        if settings.auth_mode == "none" and not is_loopback(bind):
            console.print(
                f"[red]Refusing to serve on {bind} without authentication.[/red] Bind 127.0.0.1, or set "
                "PROMPTSALES_AUTH_MODE=oidc (or dev) with PROMPTSALES_AUTH_AUDIENCE.",
                highlight=False,
            )
            raise typer.Exit(1)
        settings = bound_settings(settings, host=host, port=port)
        try:
            auth = build_auth(settings)
        except AuthConfigError as exc:
            console.print(f"[red]Auth configuration error:[/red] {exc}", highlight=False, markup=True)
            raise typer.Exit(1) from None
    runtime = Runtime(settings)
    gateway = build_gateway(runtime, auth=auth)
    install_tool_views(gateway, runtime, default=_server_view(gateway, toolsets, tools, read_only, compact))
    if transport == "stdio":
        gateway.run(transport="stdio", show_banner=False)
        return
    import uvicorn

    from promptsales.servers.http import http_app

    asgi = http_app(gateway, runtime, json_response=json_response)
    # Long-lived objects created so far never need collecting; a higher threshold trims GC pauses (p99).
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)
    uvicorn.run(
        asgi,
        host=host or settings.http_host,
        port=port or settings.http_port,
        log_level="warning",
        lifespan="on",
    )


def _server_view(gateway: "FastMCP", toolsets: str | None, tools: str | None, read_only: bool, compact: bool) -> "View":
    """The view every client of this server gets (``--toolsets/--tools/--read-only/--compact``); exits on a bad one."""
    from promptsales.servers.toolsets import View, parse_selection

    known: set[str] = set()
    if tools:  # check the names against the catalogue, so a typo does not silently hide everything
        known = {tool.name for tool in asyncio.run(gateway.list_tools(run_middleware=False))}
    try:
        selection = parse_selection(
            toolsets=toolsets, tools=tools, read_only=read_only, mode="compact" if compact else None, known_tools=known
        )
    except ValueError as exc:
        console.print(f"[red]Invalid tool selection:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    return View().narrowed(selection)


@keys_app.command("generate")
def keys_generate(
    key_id: Annotated[str, typer.Option(help="Id of the new key (1-32 letters, digits, - or _).")],
) -> None:
    """Print a new AES-256 key entry to append to PROMPTSALES_ENCRYPTION_KEYS (rotation: add, then re-seal)."""
    from promptsales.domain_core.infrastructure.crypto import CryptoError, KeyRing, generate_key

    entry = f"{key_id}:{generate_key()}"
    try:
        KeyRing.parse(entry)
    except CryptoError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from exc
    typer.echo(entry)


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Migrate the database to the latest schema (creates the app role and RLS policies on Postgres)."""
    settings = _settings()
    upgrade_to_head(settings.resolved_migration_url, app_role=settings.database_app_role)
    console.print("[green]Database is at the latest schema.[/green]")


@app.command()
def demo() -> None:
    """Seed a realistic demo tenant (organizations, contacts, leads, interactions, a segment, a flow run)."""
    from promptsales.servers.demo import seed_demo

    settings = _settings()
    summary = asyncio.run(seed_demo(settings))
    console.print(f"[green]Demo data ready for tenant '{settings.tenant}':[/green] {summary}")


@analytics_app.command("refresh")
def analytics_refresh(
    tenants: Annotated[
        list[str] | None, typer.Option("--tenant", help="Tenant to refresh (repeatable); default PROMPTSALES_TENANT.")
    ] = None,
) -> None:
    """Pull new platform results for the tenants' campaigns (run it from cron or a scheduled job, e.g. hourly)."""
    from promptsales.domain_core.analytics.commands import RefreshPerformance
    from promptsales.servers.runtime import Runtime

    settings = _settings()

    async def run() -> list[str]:
        runtime = Runtime(settings)
        await runtime.start()
        try:
            lines = []
            for tenant in tenants or [settings.tenant]:
                caller = Caller(tenant_id=tenant, actor_id="analytics-scheduler", actor_kind="system", source="cli")
                result = await runtime.analytics.refresh(caller, RefreshPerformance())
                rows = sum(pull.rows for pull in result.campaigns)
                errors = [error for pull in result.campaigns for error in pull.errors]
                lines.append(
                    f"{tenant}: {len(result.campaigns)} campaigns, {rows} ad-days"
                    + (f", errors: {errors}" if errors else "")
                )
            return lines
        finally:
            await runtime.stop()

    for line in asyncio.run(run()):
        console.print(line)


@crm_app.command("import")
def crm_import(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)]) -> None:
    """Import leads from a CSV file (same columns as the import_leads tool), with a progress bar."""
    from promptsales.servers.runtime import Runtime

    settings = _settings()
    text = file.read_text(encoding="utf-8-sig")

    async def run() -> None:
        runtime = Runtime(settings)
        await runtime.start()
        try:
            caller = Caller(tenant_id=settings.tenant, actor_id=settings.actor, actor_kind="human", source="cli")
            with Progress(TextColumn("Importing"), BarColumn(), MofNCompleteColumn(), console=console) as bar:
                task = bar.add_task("rows", total=None)

                async def progress(done: int, total: int) -> None:
                    bar.update(task, completed=done, total=total)

                report = await runtime.crm.import_leads(caller, csv_text=text, progress=progress)
        finally:
            await runtime.stop()
        console.print(
            f"created {report.created}, updated {report.updated}, unchanged {report.unchanged}, "
            f"rejected {report.rejected} of {report.total_rows} rows"
        )
        for error in report.errors:
            console.print(f"  row {error.row}: {error.message}", style="yellow")

    try:
        asyncio.run(run())
    except DomainError as exc:
        console.print(f"[red]Import failed:[/red] {exc.public_message()}", markup=True, highlight=False)
        raise typer.Exit(1) from None
