"""`HOME/serve.json`: how a `newsrag ask` finds a `newsrag serve` running on the same home.

The server writes its port, pid and a random instance token there once it listens and removes the file when it
stops. A file left by a server that died (its pid is gone, or was reused by a process started after the file was
written, or the file is unreadable) is ignored, and whoever reads it cannot be sent anywhere but 127.0.0.1.
Before `ask` sends a login or a question, the server at the port must show the same instance token
(rag/frontends/remote.py): another program that took the port, or a reused pid, gets nothing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

__all__ = ["FILENAME", "write_server_file", "read_server_file", "remove_server_file"]

FILENAME = "serve.json"


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return True


def _started_after(pid: int, moment: float) -> bool:
    """Whether process `pid` began after `moment` (a pid reused since): Linux /proc; False where unknown."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            ticks = int(f.read().rsplit(")", 1)[1].split()[19])  # field 22, starttime, after "(comm)"
        with open("/proc/stat", encoding="ascii") as f:
            boot = next(int(line.split()[1]) for line in f if line.startswith("btime "))
        return boot + ticks / os.sysconf("SC_CLK_TCK") > moment + 2.0  # 2 s: btime is whole seconds
    except (OSError, ValueError, IndexError, StopIteration):
        return False


def write_server_file(home: Path, *, port: int, root: str = "/", login: bool = False,
                      instance: str | None = None) -> Path:
    """Record this process as the server for `home` (atomically: a reader never sees half a file). `instance`
    is the token the server shows at GET {root}newsrag-instance (rag/frontends/web/page.py), so a reader can tell it is this one."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / FILENAME
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"port": int(port), "pid": os.getpid(), "root": root or "/", "login": bool(login),
                               "instance": instance}), encoding="utf-8")
    os.chmod(tmp, 0o600)  # the token is what proves the server: only this user reads it
    os.replace(tmp, path)
    return path


def read_server_file(home: Path) -> dict[str, Any] | None:
    """{port, pid, root, login} of a live server on `home`, or None (no file, a broken one, or a dead pid)."""
    try:
        path = home / FILENAME
        info = json.loads(path.read_text(encoding="utf-8"))
        port, pid = int(info["port"]), int(info["pid"])
        written = path.stat().st_mtime
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not (0 < port < 65536) or not _alive(pid) or _started_after(pid, written):
        return None
    root = str(info.get("root") or "/")
    instance = info.get("instance")
    return {"port": port, "pid": pid, "root": root if root.startswith("/") else "/", "login": bool(info.get("login")),
            "instance": instance if isinstance(instance, str) and instance else None}


def remove_server_file(home: Path) -> None:
    """Remove the file if this process wrote it (a newer server's file is left alone)."""
    path = home / FILENAME
    try:
        if int(json.loads(path.read_text(encoding="utf-8")).get("pid", -1)) == os.getpid():
            path.unlink()
    except (OSError, ValueError, TypeError, AttributeError):
        pass
