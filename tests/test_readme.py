"""The README's promises: a two-command quick start, and a Dockerfile in step with the install."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _section(title: str) -> str:
    match = re.search(rf"^## {title}\n(.*?)(?=^## |\Z)", README, re.MULTILINE | re.DOTALL)
    assert match, f"README has no '{title}' section"
    return match.group(1)


def _code_blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, re.DOTALL)


def test_quick_start_is_exactly_make_run_and_make_test() -> None:
    assert _code_blocks(_section("Quick start")) == ["make run\n", "make test\n"]


def test_dockerfile_runs_the_readme_production_install() -> None:
    install = README.split("<!-- production-install -->", 1)[1]
    steps = _code_blocks(install)[0].strip().splitlines()
    build_steps = [step for step in steps if not step.startswith("groupgate ")]
    for step in build_steps:
        assert step in DOCKERFILE, f"Dockerfile lacks the README's step: {step}"
    assert 'CMD ["groupgate", "serve"]' in DOCKERFILE
    assert steps[-1] == "groupgate serve"


def test_dockerfile_is_non_root_and_health_checked() -> None:
    assert re.search(r"^USER \d+", DOCKERFILE, re.MULTILINE)
    assert "HEALTHCHECK" in DOCKERFILE
    assert "/healthz" in DOCKERFILE
    assert DOCKERFILE.count("FROM ") >= 2, "multi-stage build"
