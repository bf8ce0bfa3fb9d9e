"""The ``ecomarket`` command."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from ecomarket.config import Settings

app = typer.Typer(no_args_is_help=True, add_completion=False, help="EcoMarket back office.")


@app.command()
def central(
    port: Annotated[int, typer.Option(help="port to listen on")] = 8001,
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    instance: Annotated[
        str | None, typer.Option(help="instance name (default: ECOMARKET_INSTANCE)")
    ] = None,
) -> None:
    """Run one central instance."""
    from ecomarket.central.main import build
    from ecomarket.serve import serve

    settings = Settings()
    if instance:
        settings = settings.model_copy(update={"instance": instance})
    serve(build(settings), name=settings.instance, host=host, port=port)


@app.command()
def seed(
    branches: Annotated[
        str | None,
        typer.Option(help="comma-separated branch ids (default: those in ECOMARKET_BRANCH_TOKENS)"),
    ] = None,
) -> None:
    """Load the demo catalogue and opening stock, idempotently."""
    import redis.asyncio as redis

    from ecomarket.central.store import CentralStore
    from ecomarket.seed import seed as load

    settings = Settings()
    branch_ids = [b.strip() for b in branches.split(",")] if branches else settings.branch_ids
    if not branch_ids:
        branch_ids = ["branch-1"]

    async def run() -> tuple[int, int]:
        client = redis.Redis.from_url(settings.redis_url)
        try:
            return await load(CentralStore(client, "seed"), branch_ids)
        finally:
            await client.aclose()

    created, applied = asyncio.run(run())
    typer.echo(
        f"seeded: {created} products created, {applied} opening stock movements applied "
        f"for {', '.join(branch_ids)}"
    )


def main() -> None:
    """Entry point of the console script."""
    app()
