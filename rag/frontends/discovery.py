"""`HOME/serve.json`: how a `newsrag ask` finds a `newsrag serve` running on the same home.

The server writes its port and pid there once it listens and removes the file when it stops. A file left by a
server that died (its pid is gone, or the file is unreadable) is ignored, and whoever reads it cannot be sent
anywhere but 127.0.0.1.
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


def write_server_file(home: Path, *, port: int, root: str = "/", login: bool = False) -> Path:
    """Record this process as the server for `home` (atomically: a reader never sees half a file)."""
    home.mkdir(parents=True, exist_ok=True)
    path = home / FILENAME
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"port": int(port), "pid": os.getpid(), "root": root or "/", "login": bool(login)}),
                   encoding="utf-8")
    os.replace(tmp, path)
    return path


def read_server_file(home: Path) -> dict[str, Any] | None:
    """{port, pid, root, login} of a live server on `home`, or None (no file, a broken one, or a dead pid)."""
    try:
        info = json.loads((home / FILENAME).read_text(encoding="utf-8"))
        port, pid = int(info["port"]), int(info["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not (0 < port < 65536) or not _alive(pid):
        return None
    root = str(info.get("root") or "/")
    return {"port": port, "pid": pid, "root": root if root.startswith("/") else "/", "login": bool(info.get("login"))}


def remove_server_file(home: Path) -> None:
    """Remove the file if this process wrote it (a newer server's file is left alone)."""
    path = home / FILENAME
    try:
        if int(json.loads(path.read_text(encoding="utf-8")).get("pid", -1)) == os.getpid():
            path.unlink()
    except (OSError, ValueError, TypeError, AttributeError):
        pass
