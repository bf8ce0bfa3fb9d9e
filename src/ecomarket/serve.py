"""Runs an ASGI app on uvicorn with the settings every EcoMarket process shares."""

from __future__ import annotations

import importlib.util
import logging
from typing import Any

import uvicorn
from starlette.types import ASGIApp


def log_config(name: str, level: str = "INFO") -> dict[str, Any]:
    """Logging set-up where every line, access lines included, names the process."""
    line = f"%(asctime)s %(levelname)s {name} %(name)s: %(message)s"
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": line},
            "access": {
                "()": "uvicorn.logging.AccessFormatter",
                "fmt": f'%(asctime)s INFO {name} access: %(client_addr)s "%(request_line)s" '
                "%(status_code)s",
                "use_colors": False,
            },
        },
        "handlers": {
            "plain": {"class": "logging.StreamHandler", "formatter": "plain"},
            "access": {"class": "logging.StreamHandler", "formatter": "access"},
        },
        "loggers": {
            "ecomarket": {"handlers": ["plain"], "level": level, "propagate": False},
            "uvicorn": {"handlers": ["plain"], "level": level, "propagate": False},
            "uvicorn.access": {"handlers": ["access"], "level": level, "propagate": False},
            "aio_pika": {"handlers": ["plain"], "level": "WARNING", "propagate": False},
            "aiormq": {"handlers": ["plain"], "level": "WARNING", "propagate": False},
        },
        "root": {"handlers": ["plain"], "level": "WARNING"},
    }


def serve(
    app: ASGIApp,
    *,
    name: str,
    host: str = "127.0.0.1",
    port: int,
    access_log: bool = True,
) -> None:
    """Serve ``app`` until SIGINT or SIGTERM, with uvloop and httptools when installed."""
    has = importlib.util.find_spec
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        loop="uvloop" if has("uvloop") else "asyncio",
        http="httptools" if has("httptools") else "h11",
        log_config=log_config(name),
        access_log=access_log,
        # nginx keeps idle upstream connections for up to 60 s; outlive them so that
        # it is always nginx that closes an idle connection, never a race with us.
        timeout_keep_alive=75,
        timeout_graceful_shutdown=10,
        server_header=False,
        proxy_headers=False,
    )
    logging.getLogger(__name__).debug("serving %s on %s:%s", name, host, port)
    uvicorn.Server(config).run()
