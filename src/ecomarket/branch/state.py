"""The running parts of one branch, as its routes see them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ecomarket.branch.db import Database
from ecomarket.branch.dispatcher import Dispatcher
from ecomarket.branch.sync import CatalogueSync
from ecomarket.config import Settings


@dataclass(frozen=True)
class BranchConfig:
    """What one branch needs to run: who it is, where the central is, where its file lives."""

    branch_id: str
    central_url: str
    data_dir: Path
    token: str
    settings: Settings

    @property
    def db_path(self) -> Path:
        """The branch's SQLite file."""
        return self.data_dir / f"{self.branch_id}.sqlite3"


@dataclass
class Branch:
    """The running parts of a branch, shared by its routes."""

    config: BranchConfig
    db: Database
    dispatcher: Dispatcher
    sync: CatalogueSync
