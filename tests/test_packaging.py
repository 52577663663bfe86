"""`pip install .` gives a working `groupgate`: migrations and policies travel as package data."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The built wheel unpacked into a fresh directory, as pip would lay it out."""
    directory = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(directory)],
        check=True,
        capture_output=True,
    )
    [wheel] = directory.glob("groupgate-*.whl")
    site = directory / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    return site


def test_wheel_carries_migrations_policies_and_entry_point(installed: Path) -> None:
    assert (installed / "policies" / "model.conf").is_file()
    assert (installed / "policies" / "roles.csv").is_file()
    assert (installed / "groupgate" / "templates" / "sign_in.html").is_file()
    assert list((installed / "data" / "migrations" / "versions").glob("0001_*.py"))
    assert (installed / "data" / "migrations" / "script.py.mako").is_file()
    [entry_points] = installed.glob("groupgate-*.dist-info/entry_points.txt")
    assert "groupgate = groupgate.cli:main" in entry_points.read_text()
    assert not (installed / "tests").exists()


def test_installed_command_migrates_from_anywhere(installed: Path, tmp_path: Path) -> None:
    # Run the installed code (not this checkout) from an unrelated directory.
    program = (
        "import sys; sys.path.insert(0, sys.argv[1]); import groupgate.cli as cli;"
        " assert cli.__file__.startswith(sys.argv[1]), cli.__file__;"
        " sys.exit(cli.main(['migrate']))"
    )
    environment = {
        **os.environ,
        "GROUPGATE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'installed.db'}",
    }
    result = subprocess.run(
        [sys.executable, "-c", program, str(installed)],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("database at revision")
