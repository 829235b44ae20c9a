"""Shared test fixtures: repository paths and the shared real data."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real captures and API corpus beside the checkout (`../shared/data/hf-papers`)."""
    path = SHARED / "data" / "hf-papers"
    if not path.is_dir():
        pytest.fail(f"the shared data folder is missing: {path} (clone the repository beside shared/)")
    return path
