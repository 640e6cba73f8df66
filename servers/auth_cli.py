"""``promptsales auth``: development keys and tokens for the local dev issuer (``PROMPTSALES_AUTH_MODE=dev``)."""

from typing import Annotated

import typer
from rich.console import Console

from promptsales.domain_core.infrastructure.settings import Settings
from promptsales.servers.dev_issuer import DEFAULT_AUDIENCE, DevIssuerError, create_dev_keys, mint_dev_token

auth_app = typer.Typer(help="HTTP auth: the local development issuer (never for production).", no_args_is_help=True)
console = Console(stderr=True)


@auth_app.command("dev-keys")
def dev_keys(
    force: Annotated[bool, typer.Option("--force", help="Replace existing keys (invalidates issued tokens).")] = False,
) -> None:
    """Create the dev issuer's RSA key and JWKS under DATA_DIR/auth/ (kept if they already exist)."""
    folder = create_dev_keys(Settings().data_dir, overwrite=force)
    console.print(f"Development keys in {folder}")


@auth_app.command("dev-token")
def dev_token(
    tenant: Annotated[str, typer.Option(help="Tenant id put in the tenant claim.")],
    subject: Annotated[str, typer.Option(help="Subject (sub): the acting agent or user.")],
    scopes: Annotated[str, typer.Option(help='Space-separated scopes, e.g. "crm:read crm:write".')] = "",
    expires_in: Annotated[int, typer.Option(min=1, help="Lifetime in seconds.")] = 3600,
    audience: Annotated[
        str | None,
        typer.Option(
            help=f"Server canonical URL (default: PROMPTSALES_AUTH_AUDIENCE, else the served URL: {DEFAULT_AUDIENCE})."
        ),
    ] = None,
) -> None:
    """Print a signed development token on stdout."""
    from promptsales.servers.auth import bound_settings, canonical_resource

    settings = Settings()
    try:
        token = mint_dev_token(
            settings.data_dir,
            tenant=tenant,
            subject=subject,
            scopes=scopes,
            expires_in=expires_in,
            audience=audience or canonical_resource(bound_settings(settings)),
            tenant_claim=settings.auth_tenant_claim,
            **({"issuer": settings.auth_issuer} if settings.auth_issuer else {}),
        )
    except DevIssuerError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    typer.echo(token)
