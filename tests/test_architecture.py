"""The shape we want, checked: thin CLI and web layers, settings documented, nothing heavy at import."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from policykb.settings import SETTINGS

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "policykb"

# Modules that only the service (and the stages) may use; the CLI and web layer go through KnowledgeBase.
BEHIND_THE_SERVICE = {
    "sqlite3", "faiss", "bm25s", "torch", "sentence_transformers", "jieba", "spacy",
    "policykb.store", "policykb.search", "policykb.vector_index", "policykb.keyword_index",
    "policykb.indexer", "policykb.embed", "policykb.extract", "policykb.segment", "policykb.cleaning",
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("layer", ["cli.py", "web.py"])
def test_cli_and_web_reach_only_the_service(layer: str) -> None:
    path = SRC / layer
    if not path.exists():
        pytest.skip(f"{layer} not written yet")
    reached = {
        name for name in _imports(path)
        if any(name == bad or name.startswith(bad + ".") for bad in BEHIND_THE_SERVICE)
    }
    assert reached == set()


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", readme, flags=re.M))
    assert {s.name for s in SETTINGS} - documented == set()


def test_help_is_instant_because_nothing_heavy_loads_at_import() -> None:
    code = (
        "import sys, policykb.cli; "
        "heavy = [m for m in ('torch', 'faiss', 'sentence_transformers', 'spacy', 'jieba') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_quickstart_has_exactly_two_commands() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quickstart = readme.split("## Quickstart", 1)[1].split("##", 1)[0]
    block = quickstart.split("```", 2)[1]
    commands = [line.split("#")[0].strip() for line in block.strip().splitlines() if line.strip()]
    assert commands == ["make serve", "make test"]
