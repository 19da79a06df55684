"""A running `policykb serve` announces itself in the index folder, so that a one-shot CLI search or compare
can hand its query over instead of loading the model, jieba and the indexes (seconds) for one answer.

The announcement (`serve.json`: url, pid) is written when the server starts and removed when it stops; a stale
one (the process is gone, or the server does not answer 200) is ignored and the command runs
in its own process, which then gives exactly the answer (or the error) it always gave.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

ANNOUNCEMENT = "serve.json"
TIMEOUT_S = 10.0  # a compare on a busy server may take a while; a dead one refuses the connection at once


def announce(index_root: Path, host: str, port: int) -> Path | None:
    """Write serve.json for this process (None when the folder cannot be written: the CLI then runs locally)."""
    shown = "127.0.0.1" if host in ("0.0.0.0", "", "localhost") else host  # noqa: S104 - not a bind
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    path = Path(index_root) / ANNOUNCEMENT
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps({"url": f"http://{shown}:{port}", "pid": os.getpid()}), encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        log.info("could not announce the server in %s: %s", path, exc)
        return None
    return path


def withdraw(path: Path | None) -> None:
    """Remove this process's announcement (not one a newer server wrote since)."""
    if path is None:
        return
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
            path.unlink()
    except (OSError, ValueError):
        pass


def _server_url(index_root: Path) -> str | None:
    try:
        data = json.loads((Path(index_root) / ANNOUNCEMENT).read_text(encoding="utf-8"))
        pid, url = int(data["pid"]), str(data["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:  # alive, another user's
        pass
    return url if url.startswith("http://") else None


def ask(index_root: Path, endpoint: str, params: list[tuple[str, str]]) -> tuple[str, Any] | None:
    """(server url, JSON answer) from the running server, or None when there is none or it did not answer 200."""
    url = _server_url(index_root)
    if url is None:
        return None
    import urllib.parse
    import urllib.request  # only now: a CLI with no server to ask never pays for the HTTP client's import

    full = f"{url}{endpoint}?{urllib.parse.urlencode(params)}"
    try:
        with urllib.request.urlopen(full, timeout=TIMEOUT_S) as response:  # noqa: S310 - our own loopback server
            if response.status != 200:
                return None
            return url, json.loads(response.read())
    except (OSError, ValueError) as exc:
        log.info("the server announced at %s did not answer (%s): running here", url, exc)
        return None
