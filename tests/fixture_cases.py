"""The tests' loader of fixture cases: each `cases/<extractor>/<name>/` folder with a meta.json is a case."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paperset.crawler.site.fixture_cases import INPUT_FILES, extract


@dataclass(frozen=True)
class FixtureCase:
    """One case folder: the saved input, `meta.json` (url, listing, provenance), `expected.json`."""

    path: Path
    meta: dict[str, Any]

    @classmethod
    def load(cls, path: Path) -> FixtureCase:
        return cls(path=path, meta=json.loads((path / "meta.json").read_text(encoding="utf-8")))

    @property
    def extractor(self) -> str:
        """The extractor the case is for: the name of the folder it is in."""
        return self.path.parent.name

    @property
    def name(self) -> str:
        return f"{self.extractor}/{self.path.name}"

    @property
    def input(self) -> str:
        return (self.path / self.meta.get("file", INPUT_FILES[self.extractor])).read_text(encoding="utf-8")

    def expected(self) -> dict[str, Any]:
        return json.loads((self.path / "expected.json").read_text(encoding="utf-8"))


def find_cases(fixtures: Path) -> list[FixtureCase]:
    """Every case under `fixtures/cases/` (a folder with a meta.json, in a folder named for its extractor)."""
    return [FixtureCase.load(meta.parent) for meta in sorted((fixtures / "cases").glob("*/*/meta.json"))]


def extract_case(case: FixtureCase) -> dict[str, Any]:
    """What the current extraction code gives for the case's input, in expected.json's shape."""
    return extract(case.extractor, case.input, case.meta)
