"""What changed between two versions' papers: added, removed, and changed (with the fields)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Bookkeeping columns: they move with every crawl and say nothing about the paper itself.
IGNORED = frozenset({"listings", "last_seen_at", "first_seen_at", "provisional"})


@dataclass
class Changes:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    changed: dict[str, list[str]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def to_markdown(self, parent: str | None, version: str) -> str:
        lines = [f"# Changes in {version}", "", f"Against {parent or 'nothing (first version)'}: "
                 f"{len(self.added)} added, {len(self.removed)} removed, {len(self.changed)} changed.", ""]
        for title, keys in (("Added", self.added), ("Removed", self.removed)):
            if keys:
                lines += [f"## {title}", "", *[f"- `{k}`" for k in keys], ""]
        if self.changed:
            lines += ["## Changed", "", *[f"- `{k}`: {', '.join(v)}" for k, v in self.changed.items()], ""]
        return "\n".join(lines)


def compare(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> Changes:
    """Papers keyed by paper_key, old against new."""
    changes = Changes(added=sorted(new.keys() - old.keys()), removed=sorted(old.keys() - new.keys()))
    for key in sorted(old.keys() & new.keys()):
        fields = [name for name in new[key] if name not in IGNORED and old[key].get(name) != new[key].get(name)]
        if fields:
            changes.changed[key] = fields
    return changes
