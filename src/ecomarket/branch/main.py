"""Runs one branch from the command line's options and the environment."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ecomarket.branch.app import create_app
from ecomarket.branch.state import BranchConfig
from ecomarket.config import Settings
from ecomarket.serve import serve

logger = logging.getLogger(__name__)

TOKEN_VARIABLE = "ECOMARKET_BRANCH_TOKEN"


def run(branch_id: str, port: int, host: str, central_url: str, data_dir: Path) -> None:
    """Serve the branch until SIGINT or SIGTERM."""
    token = os.environ.get(TOKEN_VARIABLE, "")
    if not token:
        # The till still sells; HTTP delivery will be refused (401) until the token is set.
        logger.warning(
            "%s is not set: the central will refuse this branch's HTTP deliveries", TOKEN_VARIABLE
        )
    config = BranchConfig(
        branch_id=branch_id,
        central_url=central_url,
        data_dir=data_dir,
        token=token,
        settings=Settings(),
    )
    serve(create_app(config), name=branch_id, host=host, port=port)
