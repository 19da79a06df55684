"""search/compare hand their query to a running server announced in the index folder, and say so with -v."""

from __future__ import annotations

import json
import logging
import os
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from policykb import handoff
from policykb.cli import main

HIT = {"clause_id": "a-2024/一#1", "doc_id": "a-2024", "region_id": "a", "section": ["一、总则"], "text": "比例不低于30%。",
       "region": "甲市", "score": 0.91234, "requirements": [{"comparator": ">=", "value": 30.0, "unit": "%"}]}


class _Api(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = json.dumps({"query": "比例", "hits": [HIT]}).encode()
        self.send_response(200 if self.path.startswith("/api/search?q=") else 404)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_search_is_answered_by_the_announced_server(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="policykb")
    server = HTTPServer(("127.0.0.1", 0), _Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        path = handoff.announce(tmp_path, "127.0.0.1", server.server_address[1])
        assert path is not None and json.loads(path.read_text())["pid"] == os.getpid()
        assert main(["-v", "--index-dir", str(tmp_path), "search", "比例"]) == 0
        out = capsys.readouterr().out
        assert out == " 1. 0.9123  甲市  a-2024/一#1\n    [一、总则]\n    比例不低于30%。   ⟨不低于30%⟩\n"
        assert "answered by the running server at http://127.0.0.1:" in caplog.text
        handoff.withdraw(path)
        assert not path.exists()
    finally:
        server.shutdown()


def test_a_stale_announcement_is_ignored(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="policykb")
    (tmp_path / handoff.ANNOUNCEMENT).write_text(json.dumps({"url": "http://127.0.0.1:9", "pid": 2**22 + 7}))
    assert handoff.ask(tmp_path, "/api/search", [("q", "比例")]) is None
    # No server and no index: the command runs here and says what is missing, as it always did.
    assert main(["-v", "--index-dir", str(tmp_path), "search", "比例"]) == 2
    assert "runs in this process" in caplog.text
    assert "no index" in capsys.readouterr().err


def test_the_app_announces_itself_while_it_runs(tmp_path: Path) -> None:
    """serve.json appears at the app's start-up and goes at its shutdown (the lifespan), however it is stopped."""
    from fastapi.testclient import TestClient

    from policykb.service import KnowledgeBase
    from policykb.settings import Settings
    from policykb.web import create_app

    app = create_app(KnowledgeBase(Settings.load(index_dir=str(tmp_path))), announce_at=("0.0.0.0", 8123))  # noqa: S104
    path = tmp_path / handoff.ANNOUNCEMENT
    assert not path.exists()
    with TestClient(app):
        assert json.loads(path.read_text()) == {"url": "http://127.0.0.1:8123", "pid": os.getpid()}
    assert not path.exists()
    with TestClient(create_app(KnowledgeBase(Settings.load(index_dir=str(tmp_path))))):
        assert not path.exists()  # an app made without announce_at (tests, embedding) says nothing
