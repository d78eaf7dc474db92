"""Where studies live: storage URLs (SQLite by default, PostgreSQL for many machines),
and the heartbeats that tell a dead worker's trial from a running one.

Optuna loads only when a storage opens, so checking a URL (the CLI does it before its
heavy imports) costs SQLAlchemy's URL parser alone."""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy.exc
from sqlalchemy.engine import make_url

if TYPE_CHECKING:
    import optuna

ENV_STORAGE = "VRADAM_STORAGE"  # a storage URL that replaces the default (tests, servers)
ENV_HEARTBEAT = "VRADAM_HEARTBEAT"  # "interval,grace" in seconds (tests shorten them)
HEARTBEAT = (5, 30)  # a worker pings every 5 s; after 30 s of silence its trial has failed


# ----------------------------------------------------------------------------- storage


def data_dir() -> Path:
    """``$XDG_DATA_HOME/vradam`` (default ``~/.local/share/vradam``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "vradam"


def default_storage_url() -> str:
    """``$VRADAM_STORAGE`` if set, else a SQLite file in :func:`data_dir`."""
    return os.environ.get(ENV_STORAGE) or f"sqlite:///{data_dir() / 'studies.db'}"


def redact(url: str) -> str:
    """The URL without its password (for messages and the JSON)."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return url


def normalise_url(url: str) -> str:
    """Check a storage URL; ``postgresql://`` means psycopg 3 (``postgresql+psycopg://``)."""
    if not isinstance(url, str) or not url.strip():
        raise ValueError("empty storage URL; expected e.g. sqlite:///studies.db")
    try:
        parsed = make_url(url.strip())
    except sqlalchemy.exc.ArgumentError:
        raise ValueError(
            f"bad storage URL {url!r}: expected sqlite:///PATH or "
            "postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE"
        ) from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ValueError(f"unsupported storage URL {redact(url)!r}: use sqlite or postgresql")
    if backend == "sqlite" and parsed.database in (None, "", ":memory:"):
        raise ValueError("a sqlite storage needs a file: sqlite:///PATH (in memory is per process)")
    if backend == "sqlite":
        parsed = parsed.set(database=str(Path(parsed.database).expanduser()))
    return parsed.render_as_string(hide_password=False)


def heartbeat_settings() -> tuple[int, int]:
    text = os.environ.get(ENV_HEARTBEAT)
    if not text:
        return HEARTBEAT
    interval, grace = (int(x) for x in text.split(","))
    return interval, grace


def open_storage(url: str | None = None, *, create: bool = True) -> optuna.storages.RDBStorage:
    """An Optuna RDB storage with heartbeats; ValueError in one line when it cannot be used.

    ``create=False`` does not create a missing SQLite file (for listing studies). A
    PostgreSQL URL without a password takes it from ``PGPASSWORD`` or ``~/.pgpass``
    (libpq's own rules), so it never needs to be on a command line.
    """
    import optuna

    url = normalise_url(url or default_storage_url())
    parsed = make_url(url)
    connect_args: dict = {}
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database).expanduser()
        if not create and not path.exists():
            raise FileNotFoundError(f"no storage file at {path}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValueError(f"cannot create the storage's folder {path.parent}: {exc}") from None
        connect_args["timeout"] = 60  # seconds a writer waits for another's lock
    elif parsed.get_backend_name() == "postgresql":
        connect_args["connect_timeout"] = 10
    interval, grace = heartbeat_settings()
    last: Exception | None = None
    for attempt in range(3):  # workers starting together may race to create the tables
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                return optuna.storages.RDBStorage(
                    url, engine_kwargs={"connect_args": connect_args},
                    heartbeat_interval=interval, grace_period=grace,
                )  # fmt: skip
        except ModuleNotFoundError as exc:
            raise ValueError(
                f"the database driver {exc.name!r} for {redact(url)} is not installed "
                "(PostgreSQL: pip install 'psycopg[binary]', URL postgresql+psycopg://…)"
            ) from None
        except sqlalchemy.exc.OperationalError as exc:
            last = exc
            if any(m in str(exc) for m in ("resolve host", "translate host", "refused")):
                break
        except sqlalchemy.exc.SQLAlchemyError as exc:
            last = exc
        time.sleep(0.5 * (attempt + 1))
    first = str(getattr(last, "orig", None) or last).strip().splitlines()[0]
    raise ValueError(f"cannot use the storage {redact(url)}: {first}")
