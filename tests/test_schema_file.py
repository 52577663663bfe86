"""The committed `schema.graphql` is what the code serves: regenerate it with `make schema`."""

from __future__ import annotations

from pathlib import Path

from schema.schema import build_schema

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"


def test_committed_schema_is_current() -> None:
    committed = SCHEMA_FILE.read_text()
    assert committed == build_schema().as_str() + "\n", (
        "schema.graphql is stale: run `make schema` and commit the result"
    )
