"""What can stop ``voisins run`` at start, each told in one line that says what to fix.

One bot per database: an OS lock on ``<database>.lock``, taken before the store opens and the
outbox recovers its ``sending`` rows (a second bot's recovery would send those rows twice, and two
bots together would send at twice the rate limit). ``flock`` is released by the kernel when the
process dies, even by SIGKILL, so a crash never leaves a stale lock behind. The other commands
(``voisins chat``, people, backup...) never send and never recover, and do not take it.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from bot.config import Settings
from bot.i18n import catalog_files
from bot.store import MIN_FREE_BYTES

_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})
_DENIED = frozenset({errno.EACCES, errno.EPERM, errno.EROFS})


class StartupError(Exception):
    """``voisins run`` cannot start: the message names what is wrong and how to fix it (no secret)."""


def check_languages(settings: Settings) -> None:
    """Every language of ``LANGUAGES`` has its catalogs in ``LOCALES_DIR``, or one line saying which has not.

    Checked before anything opens, so a typing mistake in ``.env`` (``LANGUAGES=fr,en,sp``) is not
    found at the first person who chooses that language.
    """
    for code in settings.languages:
        if not catalog_files(settings.locales_dir, code):
            folder = settings.locales_dir.resolve() / code / "LC_MESSAGES"
            raise StartupError(
                f"LANGUAGES={','.join(settings.languages)} names {code}, but {folder} has no catalog (.po files): "
                f"add that folder (see LOCALES_DIR), or take {code} out of LANGUAGES."
            )


def lock_path(database: Path) -> Path:
    """The lock file beside the database, whatever path (relative, symlinked) names the database."""
    resolved = database.resolve()
    return resolved.with_name(resolved.name + ".lock")


@contextlib.contextmanager
def instance_lock(database: Path) -> Iterator[Path]:
    """Hold the database's lock for the ``with`` block, or raise :class:`StartupError` naming the holder."""
    if str(database) == ":memory:":
        yield database
        return
    path = lock_path(database)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise storage_problem(database, exc) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip() or "unknown"
            raise StartupError(
                f"Another voisins run (PID {pid}) is already using the database {database.resolve()}: "
                "one bot per database. Stop that one first, or set DATABASE_PATH to another file."
            ) from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError as exc:
            raise storage_problem(database, exc) from None
        yield path
    finally:
        os.close(fd)  # releases the lock; the file stays, so a waiting starter never locks a deleted inode


def ensure_free_space(database: Path) -> None:
    """Refuse to start on a full disk: SQLite would fail later, at a resident's message, or worse.

    (On a full disk SQLite's shared-memory file can even turn a write into SIGBUS.)
    """
    if str(database) == ":memory:":
        return
    try:
        disk = os.statvfs(database.resolve().parent)
    except OSError as exc:
        raise storage_problem(database, exc) from None
    if _free_bytes(disk) < MIN_FREE_BYTES:
        raise storage_problem(database, OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)))


def storage_problem(database: Path, exc: BaseException) -> StartupError:
    """One line naming the database file and what to do, from the state of its disk and folder.

    SQLite's own words vary ("disk I/O error" on a full disk, "unable to open database file" for a
    read-only folder), so the advice comes from looking at the disk, not from parsing them.
    """
    if str(database) != ":memory:":
        database = database.resolve()
    folder = database.parent
    code = exc.errno if isinstance(exc, OSError) else None
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    try:
        disk = os.statvfs(database if database.exists() else folder if folder.exists() else Path.cwd())
    except OSError:
        disk = None
    if (disk is not None and disk.f_flag & os.ST_RDONLY) or code == errno.EROFS:
        advice = "it is on a read-only file system: make that writable (a remount), or set DATABASE_PATH elsewhere"
    elif code in _FULL or (disk is not None and _free_bytes(disk) < MIN_FREE_BYTES):
        advice = f"the disk holding {folder} is full: free some space there, or set DATABASE_PATH to another disk"
    elif code in _DENIED or not _writable(database):
        advice = (
            f"{reason}: check that {database.name} and its folder {folder} are writable by the user running "
            f"the bot ({_user()}), or set DATABASE_PATH elsewhere"
        )
    elif isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError):
        advice = f"{reason}: check that DATABASE_PATH names the bot's database, or restore a backup of it"
    else:
        advice = f"{reason}: check DATABASE_PATH, the permissions of the file and its folder, and the free space"
    return StartupError(f"Cannot use the database {database}: {advice}.")


def _free_bytes(disk: os.statvfs_result) -> int:
    """What this user may still write: root may use the blocks reserved for it (as /healthz counts)."""
    blocks = disk.f_bfree if os.geteuid() == 0 else disk.f_bavail
    return blocks * disk.f_frsize


def _writable(database: Path) -> bool:
    folder = database.parent
    if not folder.exists():
        return True  # made on first start; a failure there is reported by its own errno
    if not os.access(folder, os.W_OK | os.X_OK):
        return False
    return not database.exists() or os.access(database, os.R_OK | os.W_OK)


def _user() -> str:
    try:
        import pwd

        return pwd.getpwuid(os.geteuid()).pw_name
    except (ImportError, KeyError):
        return f"uid {os.geteuid()}"


def listen(host: str, port: int) -> socket.socket:
    """The HTTP server's listening socket, taken before anything else starts.

    Bound here rather than by uvicorn so that a busy port stops the bot with a clear line instead
    of uvicorn's ``sys.exit`` inside a task (or, in the terminal, a bot without ``/healthz``).
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror:
        raise StartupError(f"HTTP_HOST={host} is not an address of this machine: use 127.0.0.1 or 0.0.0.0.") from None
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart right after a stop
        sock.bind(address)
        sock.listen(2048)  # claimed now: a second bot binding the same port fails here, not later
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise StartupError(
                f"The HTTP port {port} on {host} is already in use by another program: "
                "stop it, or set HTTP_PORT in .env to a free port."
            ) from None
        if exc.errno == errno.EACCES:
            raise StartupError(
                f"Not allowed to listen on port {port} (ports below 1024 need privileges): "
                "set HTTP_PORT to 1024 or more."
            ) from None
        raise StartupError(f"Cannot listen on {host}:{port} ({exc.strerror}): check HTTP_HOST and HTTP_PORT.") from None
    sock.setblocking(False)
    return sock
