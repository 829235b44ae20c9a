"""The code version a manifest records (and reuse.py compares, to keep a parent's partitions): the commit
of a paperset checkout, else the package version, never the commit of a repository an installed paperset
happens to sit in (a virtualenv inside a project's folder)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from paperset.packager.manifest import code_version

ROOT = Path(__file__).resolve().parents[2]


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def test_a_checkout_records_its_commit():
    assert code_version() == git("rev-parse", "HEAD", cwd=ROOT)


def test_an_installed_copy_inside_another_repository_records_the_package_version(tmp_path):
    project = tmp_path / "project"
    site = project / ".venv" / "lib" / "site-packages"
    shutil.copytree(ROOT / "paperset", site / "paperset", ignore=shutil.ignore_patterns("__pycache__"))
    (project / "notes.txt").write_text("a project of the user's\n")
    git("init", "-q", cwd=project)
    git("-c", "user.email=u@example.org", "-c", "user.name=u", "add", "notes.txt", cwd=project)
    git("-c", "user.email=u@example.org", "-c", "user.name=u", "commit", "-qm", "one", cwd=project)
    script = ("import paperset, sys; from paperset.packager.manifest import code_version; "
              "print(paperset.__file__); print(code_version())")
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True,
                          env={**os.environ, "PYTHONPATH": str(site)})
    where, recorded = done.stdout.strip().splitlines()
    assert where == str(site / "paperset" / "__init__.py")
    assert recorded == version("paperset")
    assert recorded != git("rev-parse", "HEAD", cwd=project)
