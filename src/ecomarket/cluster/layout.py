"""The run folder of a local cluster: where its configs, pids, logs, data and tokens live.

Everything a cluster owns is under one folder, so two clusters with two run
folders never meet, and ``down`` followed by ``up`` finds the data again.
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import asdict, dataclass, field
from pathlib import Path

TOKENS_FILE = "tokens.env"
STATE_FILE = "cluster.json"


@dataclass
class ProgramInfo:
    """One process of the cluster as the launcher planned it."""

    kind: str  # redis, epmd, rabbitmq, central, branch, nginx
    port: int


@dataclass
class ClusterState:
    """What ``up`` decided, kept in the run folder for the other commands."""

    port: int
    balance: str
    redis_url: str
    amqp_url: str
    programs: dict[str, ProgramInfo] = field(default_factory=dict)

    def names_of(self, kind: str) -> list[str]:
        """Names of the programs of one kind, in numeric order (central-2 before central-10)."""
        chosen = [name for name, info in self.programs.items() if info.kind == kind]
        return sorted(chosen, key=lambda name: (len(name), name))

    @property
    def url(self) -> str:
        """The load balancer's address."""
        return f"http://127.0.0.1:{self.port}"


class RunDir:
    """Paths inside one run folder."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root).resolve()

    @property
    def logs(self) -> Path:
        """Each program's output, plus nginx's access log and supervisord's own log."""
        return self.root / "logs"

    @property
    def programs(self) -> Path:
        """One supervisord config file per program, so programs can come and go."""
        return self.root / "programs"

    @property
    def supervisor_conf(self) -> Path:
        """The main supervisord config."""
        return self.root / "supervisord.conf"

    @property
    def socket(self) -> Path:
        """supervisord's control socket (a unix socket: nothing listens on the network)."""
        return self.root / "supervisor.sock"

    @property
    def supervisor_pid(self) -> Path:
        """supervisord's pid file."""
        return self.root / "supervisord.pid"

    @property
    def nginx(self) -> Path:
        """nginx's prefix folder: config, pid and temporary files."""
        return self.root / "nginx"

    def data(self, name: str) -> Path:
        """The data folder of one program (redis, rabbitmq, branch-1, ...)."""
        return self.root / "data" / name

    def log_of(self, name: str) -> Path:
        """The log file of one program."""
        return self.logs / f"{name}.log"

    def create(self) -> None:
        """Make the folders."""
        for folder in (self.root, self.logs, self.programs, self.nginx, self.root / "data"):
            folder.mkdir(parents=True, exist_ok=True)

    def exists(self) -> bool:
        """Whether a cluster was ever set up here."""
        return (self.root / STATE_FILE).exists()

    def load(self) -> ClusterState:
        """The state written by ``up``; FileNotFoundError when there is none."""
        raw = json.loads((self.root / STATE_FILE).read_text())
        programs = {name: ProgramInfo(**info) for name, info in raw.pop("programs").items()}
        return ClusterState(**raw, programs=programs)

    def save(self, state: ClusterState) -> None:
        """Write the state atomically (a reader never sees half a file)."""
        target = self.root / STATE_FILE
        temporary = target.with_suffix(".tmp")
        temporary.write_text(json.dumps(asdict(state), indent=2))
        temporary.replace(target)


@dataclass(frozen=True)
class Tokens:
    """The admin token and each branch's token, and where they came from."""

    admin: str
    branches: dict[str, str]  # branch id -> token
    source: str

    @property
    def branch_tokens(self) -> str:
        """The ``ECOMARKET_BRANCH_TOKENS`` form: 'branch-1:secret1,branch-2:secret2'."""
        return ",".join(f"{branch}:{token}" for branch, token in self.branches.items())

    def env(self) -> dict[str, str]:
        """The environment variables that carry the tokens."""
        return {"ECOMARKET_ADMIN_TOKEN": self.admin, "ECOMARKET_BRANCH_TOKENS": self.branch_tokens}


def _parse_branch_tokens(text: str) -> dict[str, str]:
    pairs = (pair.strip().partition(":") for pair in text.split(",") if pair.strip())
    return {branch: token for branch, _, token in pairs}


def read_tokens(run: RunDir) -> Tokens | None:
    """The tokens from the environment when set there, else from the run folder, else None."""
    admin = os.environ.get("ECOMARKET_ADMIN_TOKEN", "")
    branch_text = os.environ.get("ECOMARKET_BRANCH_TOKENS", "")
    if admin or branch_text:
        return Tokens(admin, _parse_branch_tokens(branch_text), "the environment")
    path = run.root / TOKENS_FILE
    if not path.exists():
        return None
    values: dict[str, str] = {}
    for line in path.read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not key.startswith("#"):
            values[key.strip()] = value.strip()
    return Tokens(
        values.get("ECOMARKET_ADMIN_TOKEN", ""),
        _parse_branch_tokens(values.get("ECOMARKET_BRANCH_TOKENS", "")),
        str(path),
    )


def ensure_tokens(run: RunDir, branches: list[str]) -> Tokens:
    """The tokens to run with (the environment's, or the run folder's, completed as needed).

    They are written to the run folder either way, so that ``scale`` and ``loadtest``
    find them from any shell.
    """
    tokens = read_tokens(run)
    if tokens is not None and tokens.source == "the environment":
        missing = [branch for branch in branches if branch not in tokens.branches]
        if missing or not tokens.admin:
            raise ValueError(
                "ECOMARKET_ADMIN_TOKEN and ECOMARKET_BRANCH_TOKENS must name every branch "
                f"when set; missing: {', '.join(missing) or 'the admin token'}"
            )
        chosen = tokens
    else:
        known = dict(tokens.branches) if tokens else {}
        for branch in branches:
            known.setdefault(branch, secrets.token_urlsafe(24))
        admin = tokens.admin if tokens and tokens.admin else secrets.token_urlsafe(24)
        chosen = Tokens(admin, known, str(run.root / TOKENS_FILE))

    path = run.root / TOKENS_FILE
    lines = [f"{key}={value}" for key, value in chosen.env().items()]
    header = f"# tokens of this cluster (from {chosen.source}); export them to call the API\n"
    path.touch(mode=0o600, exist_ok=True)
    path.write_text(header + "\n".join(lines) + "\n")
    return chosen
