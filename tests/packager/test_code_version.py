"""The code versions a manifest records: `code_version` (provenance), the commit of a paperset checkout, else
the package version, never the commit of a repository an installed paperset happens to sit in (a virtualenv
inside a project's folder); `fold_version` (what reuse.py compares, to keep a parent's partitions), a digest
of the packager's and the spool's code."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from paperset.packager.manifest import NOT_FOLD, code_version

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


def test_the_fold_version_follows_the_packager_and_the_spool_only(tmp_path):
    """reuse.py keeps a parent's partitions under the same fold_version: a change to the crawler (or docs, or
    tests) keeps it, a change to the packager's or the spool's code (committed or not) changes it."""
    site = tmp_path / "site"
    shutil.copytree(ROOT / "paperset", site / "paperset", ignore=shutil.ignore_patterns("__pycache__"))
    script = "from paperset.packager.manifest import fold_version; print(fold_version())"

    def digest() -> str:
        return subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                              check=True, env={**os.environ, "PYTHONPATH": str(site)}).stdout.strip()

    first = digest()
    with (site / "paperset" / "crawler" / "spiders" / "hf_papers.py").open("a") as crawler:
        crawler.write("\n# a crawler fix\n")
    assert digest() == first
    with (site / "paperset" / "packager" / "card.py").open("a") as card:
        card.write("\n# the card's wording\n")
    assert digest() == first
    with (site / "paperset" / "spool" / "schema.py").open("a") as spool:
        spool.write("\n# a change to the spool's code\n")
    changed = digest()
    assert changed != first
    with (site / "paperset" / "packager" / "derive.py").open("a") as packager:
        packager.write("\n# a derivation rule's change\n")
    assert digest() not in (first, changed)


def test_the_fold_imports_none_of_the_modules_its_digest_leaves_out():
    """NOT_FOLD holds modules that never shape a partition: the modules that write and reuse partitions (the
    papers', observations' and links' tables, their figures) load none of them."""
    script = ("import sys; import paperset.packager.fold, paperset.packager.reuse, paperset.packager.links, "
              "paperset.packager.link_parts, paperset.packager.intake, paperset.packager.parent; "
              "print(' '.join(sorted(m for m in sys.modules if m.startswith('paperset.packager.'))))")
    loaded = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.split()
    assert "paperset.packager.fold" in loaded and len(loaded) > 15
    assert [m for m in loaded if f"{m.rsplit('.', 1)[1]}.py" in NOT_FOLD] == []
