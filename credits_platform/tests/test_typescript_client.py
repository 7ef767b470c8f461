"""clients/typescript/ must describe the API the server serves.

Without Node: the committed schema.json equals the served schema, and schema.d.ts carries the hash
of that schema.json (stamped by `npm run generate`). With the client's node_modules (installed by
`make test` when npm is present): the types regenerate byte for byte, and the typed example compiles.
Fix a failure with `make client`.
"""

import difflib
import hashlib
import json
import subprocess
from pathlib import Path

import pytest

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "typescript"
BIN = CLIENT / "node_modules" / ".bin"
FIX = "the TypeScript client is stale: run `make client` and commit clients/typescript/"


def test_committed_schema_is_the_served_schema(anon):
    """Also the API's pin: a refactoring that changes the schema fails here, with the diff."""
    served = json.loads(anon.get("/api/v1/schema/", {"format": "json"}).content)
    committed = json.loads((CLIENT / "schema.json").read_text())
    if served != committed:
        lines = [json.dumps(schema, indent=1, sort_keys=True).splitlines(True) for schema in (committed, served)]
        diff = "".join(difflib.unified_diff(*lines, "committed", "served", n=2))
        pytest.fail(f"{FIX}\n{diff[:6000]}")


def test_types_were_generated_from_the_committed_schema():
    digest = hashlib.sha256((CLIENT / "schema.json").read_bytes()).hexdigest()
    first_line = (CLIENT / "schema.d.ts").read_text().split("\n", 1)[0]
    assert first_line == f"// schema.json sha256: {digest}", FIX


def _node_tool(name: str) -> Path:
    tool = BIN / name
    if not tool.exists():
        pytest.skip(f"{tool} is missing (npm ci in clients/typescript; make test does it when npm is present)")
    return tool


def test_types_regenerate_identically(tmp_path):
    tool = _node_tool("openapi-typescript")
    out = tmp_path / "schema.d.ts"
    subprocess.run([tool, "schema.json", "-o", out], cwd=CLIENT, check=True, capture_output=True, timeout=120)
    committed = (CLIENT / "schema.d.ts").read_text().split("\n", 1)[1]  # without the hash stamp
    assert out.read_text() == committed, FIX


def test_the_typed_example_compiles():
    tsc = _node_tool("tsc")
    result = subprocess.run([tsc, "--noEmit", "-p", "."], cwd=CLIENT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
