"""The one check of a crawl's settings, before anything runs: every setting of paperset/crawler/settings/fields.py's
table parsed and range-checked from its declaration, the settings that go together checked together, and
Scrapy's other settings by the type of their default. A bad `-s NAME=VALUE` is one clear error naming the
setting (SettingError, exit 2), not a traceback or a failed crawl later."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from scrapy.settings import Settings, default_settings

import paperset.crawler.settings as project
from paperset.crawler.errors import SettingError
from paperset.crawler.settings.fields import SPECS, parse

_SWITCH = re.compile(r"^PAPERSET_[A-Z_]+_ENABLED$")
# paperset's extensions its other parts need (the download handler its rate gate, resume its tracker, every
# dropped entry its rejects file, feeds their exporter): the shipped EXTENSIONS' (the live progress bar is
# its add-on's to add).
# A user's `-s EXTENSIONS=...` replaces the shipped dict: one that leaves them out is refused, not a crawl
# that fails to start or keeps no rejects.
_NEEDED_EXTENSIONS = tuple(path for path, order in project.EXTENSIONS.items() if order is not None)

__all__ = ["SettingError", "check_settings", "defaults"]


def defaults() -> dict[str, Any]:
    """Every known setting with its default: Scrapy's, then the project's (which win)."""
    known = {k: v for k, v in vars(default_settings).items() if k.isupper()}
    known.update({k: v for k, v in vars(project).items() if k.isupper()})
    return known


def _reader(default: Any, settings: Settings) -> tuple[Callable[[str], Any], str] | None:
    """For a Scrapy setting paperset does not declare: the typed getter its default's type asks for."""
    if isinstance(default, bool):
        return settings.getbool, "true or false"
    if isinstance(default, int | float):
        return settings.getfloat, "a number"
    if isinstance(default, dict):
        return settings.getdict, "a JSON object"
    if isinstance(default, list | tuple):
        return settings.getlist, "a list"
    return None


def check_settings(settings: Settings) -> None:
    """Raise SettingError for the first setting whose value has the wrong type or range: the declared ones
    (paperset/crawler/settings/fields.py), the `PAPERSET_<PART>_ENABLED` switches, and Scrapy's others given by hand;
    then the ones that go together (the near-dup index's bands and rows). Names nobody declared pass
    unchecked: components may read settings they set themselves (workers)."""
    for name in SPECS:
        parse(name, settings.get(name))
    known = defaults()
    for name in settings.attributes:
        if name in SPECS or settings.getpriority(name) in (None, 0):
            continue  # Scrapy's own defaults at their own priority are right by definition
        if name.startswith("PAPERSET_") and not _SWITCH.match(name):
            raise SettingError(f"setting {name}: no such setting (docs/settings.md lists them)")
        if _SWITCH.match(name) and str(settings.get(name)).strip().lower() not in ("0", "1", "true", "false"):
            raise SettingError(f"setting {name} = {settings.get(name)!r}: expected true or false")
        found = _reader(known[name], settings) if name in known else None
        if found is not None and settings.get(name) is not None:
            getter, expected = found
            try:
                getter(name)
            except (TypeError, ValueError):
                raise SettingError(f"setting {name} = {settings.get(name)!r}: expected {expected}") from None
    _check_together(settings)


def _check_together(settings: Settings) -> None:
    from scrapy.utils.misc import load_object

    from paperset.crawler.dedup.config import DedupeConfig
    from paperset.crawler.tracking.items_left import ItemsLeftPipelineManager

    DedupeConfig.from_settings(settings)  # bands and rows go together, and fit in the permutations
    # The spider yields a response's entries as one batch: Scrapy's item count would count batches, and only
    # paperset's manager runs the pipelines over one.
    if settings.getint("CLOSESPIDER_ITEMCOUNT"):
        raise SettingError(f"setting CLOSESPIDER_ITEMCOUNT = {settings.get('CLOSESPIDER_ITEMCOUNT')!r}: Scrapy "
                           "counts items, and a paperset item is a response's batch of entries: bound a crawl by "
                           "CLOSESPIDER_PAGECOUNT or PAPERSET_BUDGET_API / PAPERSET_BUDGET_PAGES")
    enabled = settings.getwithbase("EXTENSIONS")
    left_out = [path for path in _NEEDED_EXTENSIONS if enabled.get(path) is None]
    if left_out:
        raise SettingError(f"setting EXTENSIONS leaves out {', '.join(left_out)}: paperset needs them; give your "
                           "extensions beside the shipped ones (paperset/crawler/settings/__init__.py EXTENSIONS)")
    processor = settings.get("ITEM_PROCESSOR")
    try:
        loaded = load_object(processor)
    except (ImportError, NameError, ValueError, AttributeError) as exc:
        raise SettingError(f"setting ITEM_PROCESSOR = {processor!r}: {exc}") from None
    if not (isinstance(loaded, type) and issubclass(loaded, ItemsLeftPipelineManager)):
        raise SettingError(f"setting ITEM_PROCESSOR = {processor!r}: expected "
                           "paperset.crawler.tracking.items_left.ItemsLeftPipelineManager or a subclass (it runs "
                           "the pipelines over each response's batch of entries)")
