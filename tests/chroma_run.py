"""A real `chroma run` server on 127.0.0.1 in a folder, for the tests and the benchmarks that need one."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from .pg_server import _free_port

__all__ = ["ChromaServer"]


class ChromaServer:
    """Started at construction (waits until its heartbeat answers, at most `wait` seconds); `close()` stops it."""

    def __init__(self, folder: str | Path, *, wait: float = 60.0) -> None:
        exe = shutil.which("chroma") or str(Path(sys.executable).parent / "chroma")
        self.port = _free_port()
        self.proc = subprocess.Popen([exe, "run", "--path", str(folder), "--host", "127.0.0.1", "--port",
                                      str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + wait
        while time.time() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/v2/heartbeat", timeout=1)
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError("chroma run exited early")
                time.sleep(0.3)
        self.close()
        raise RuntimeError(f"chroma run did not answer within {wait:.0f} s")

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
