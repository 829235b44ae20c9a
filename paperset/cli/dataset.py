"""`paperset package`, `paperset verify`, `paperset diff`: the packager's commands."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from paperset.app.exits import BadInput, Exit, checking
from paperset.crawler import settings as defaults

if TYPE_CHECKING:
    import pyarrow as pa

# Each command imports what it uses: `paperset verify` loads the manifest check, not the packager's
# build steps (jinja2, the fold's compute kernels) nor the crawl (tests/app/test_lazy_imports.py).


def cmd_package(args: argparse.Namespace) -> int:
    """Package spools into the next version, holding the dataset's lock (the one `paperset run` takes).
    Failures are reported by paperset/cli/__init__.py's `main` from the table of paperset/app/exits.py."""
    from paperset.app.process import skip_pandas_probe
    from paperset.crawler.site.kinds import daily_kinds
    from paperset.packager.build import dataset_path, package
    from paperset.packager.lock import dataset_lock

    skip_pandas_probe()
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    logging.raiseExceptions = False  # a full disk is reported once below, not by every log call
    dataset = dataset_path(args.out, args.name)
    with dataset_lock(dataset, wait=args.wait):
        result = package(args.spool, args.out, args.name, allow_partial=args.allow_partial,
                         recrawl_days=args.recrawl_days, daily_kinds=daily_kinds())
    if result.changed:
        print(f"published {result.version} at {result.path}: {result.papers} papers, "
              f"{result.observations} observations ({result.added} added, {result.changed_papers} changed)")
    else:
        print(f"nothing changed since {result.parent}: no new version")
    if args.json:
        outcome = "published" if result.changed else "unchanged"
        print(json.dumps({**result.to_dict(), "outcome": outcome, "exit_code": int(Exit.OK)}, sort_keys=True))
    return Exit.OK


def cmd_verify(args: argparse.Namespace) -> int:
    from paperset.packager.manifest import problems

    found = problems(args.version_dir, full=args.full)
    for problem in found:
        print(f"{args.version_dir}: {problem}")
    if not found:
        print(f"{args.version_dir}: verified")
    if found:
        problems = f"{len(found)} problem{'s' if len(found) != 1 else ''}"
        print(f"paperset verify: {args.version_dir} does not verify ({problems})", file=sys.stderr)
        return Exit.FAILED
    return Exit.OK


def read_papers(folder: Path) -> pa.Table | None:
    """A version's papers table in the current schema (a version of an earlier schema conformed), or None
    when it has none."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from paperset.packager.conform import conform
    from paperset.packager.tables import PAPERS

    parts = sorted((folder / "papers").glob("part-*.parquet"))
    return pa.concat_tables([conform(pq.read_table(p), PAPERS) for p in parts]) if parts else None


def resolve_version(given: str, dataset: Path | None, other: str) -> Path:
    """A version folder from what `paperset diff` was given: a folder path, or a version name of
    `--dataset`, of the dataset the other argument's folder belongs to, or of the current folder."""
    path = Path(given)
    if (path / "papers").is_dir():
        return path
    candidates = [dataset] if dataset is not None else [Path(other).parent, Path.cwd()]
    for folder in candidates:
        if folder is not None and (folder / given / "papers").is_dir():
            return folder / given
    where = dataset or Path.cwd()
    from paperset.packager.parent import versions

    known = versions(where)
    raise ValueError(f"{given} is neither a version folder nor a version of {where}"
                     + (f" (versions: {'..., ' if len(known) > 5 else ''}{', '.join(known[-5:])})" if known
                        else " (give --dataset ROOT/NAME)"))


def cmd_diff(args: argparse.Namespace) -> int:
    from paperset.packager.changes import compare

    tables, folders = [], []
    for given, other in ((args.a, args.b), (args.b, args.a)):
        with checking():  # a version not found is bad input (2), reported with its outcome line (--json)
            folder = resolve_version(given, args.dataset, other)
        table = read_papers(folder)
        if table is None:
            raise BadInput(f"{folder} has no papers table")
        folders.append(folder)
        tables.append({row["paper_key"]: row for row in table.to_pylist()})
    found = compare(tables[0], tables[1])
    a, b = folders[0].name, folders[1].name
    if args.json:
        print(json.dumps({"from": a, "to": b, **found.to_dict()}, sort_keys=True))
    else:
        print(found.to_markdown(a, b))
    return Exit.OK


def cmd_publish(args: argparse.Namespace) -> int:
    from paperset.packager import hub
    from paperset.packager.publish import publish_to_folder

    target = args.target or args.to
    with checking():
        if not target or (args.target and args.to):
            raise BadInput("give the target once: a folder or hf://datasets/OWNER/NAME")
        if target.startswith("hf://"):
            hub.parse_target(target)
    if target.startswith("hf://"):
        print("\n".join(hub.publish(args.version_dir, target, upload=args.upload, force=args.force,
                                    private=args.private, as_new_version=args.as_new_version)))
    else:
        print(f"published {publish_to_folder(args.version_dir, Path(target))}")
    return Exit.OK


def cmd_pull(args: argparse.Namespace) -> int:
    from paperset.packager import hub, hub_pull

    with checking():
        hub.parse_target(args.source)
    print("\n".join(hub_pull.pull(args.source, args.out, args.name, args.revision)))
    return Exit.OK


def register(sub: argparse._SubParsersAction) -> None:
    """Add the packager's subcommands to the `paperset` parser."""
    pkg = sub.add_parser("package", help="package spools into the next version of a dataset")
    pkg.add_argument("--spool", type=Path, nargs="+", required=True, help="spool folders")
    pkg.add_argument("--out", type=Path, required=True, help="root folder of the datasets")
    pkg.add_argument("--name", required=True, help="the dataset's name (its folder under --out)")
    pkg.add_argument("--allow-partial", action="store_true", help="package an unfinished (killed) crawl's spool")
    pkg.add_argument("--recrawl-days", type=int, default=defaults.PAPERSET_RECRAWL_DAYS,
                     help=f"days whose counters are provisional (setting PAPERSET_RECRAWL_DAYS, "
                          f"{defaults.PAPERSET_RECRAWL_DAYS})")
    pkg.add_argument("--json", action="store_true", help="last line: the result as JSON")
    pkg.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                     help="wait this long for a run or package holding the dataset (default: exit 4 at once)")
    pkg.set_defaults(handler=cmd_package)
    verify = sub.add_parser("verify", help="recheck a published version (exit 1 with what is wrong)")
    verify.add_argument("version_dir", type=Path)
    verify.add_argument("--full", action="store_true",
                        help="hash every file, also those inherited from the parent and proven by their stat")
    verify.set_defaults(handler=cmd_verify)
    pub = sub.add_parser("publish", help="copy a verified version to a folder or a Hugging Face dataset repo")
    pub.add_argument("version_dir", type=Path)
    pub.add_argument("target", nargs="?", help="a folder, or hf://datasets/OWNER/NAME")
    pub.add_argument("--to", help="the same as TARGET (kept for scripts)")
    pub.add_argument("--upload", action="store_true", help="really upload to the Hub (HF_TOKEN); else a dry run")
    pub.add_argument("--force", action="store_true",
                     help="upload even when the Hub does not hold this version's parent (or holds another "
                          "dataset under this version's name: it is replaced, the tag moved)")
    pub.add_argument("--private", action="store_true", help="create the Hub repository private")
    pub.add_argument("--as-new-version", action="store_true",
                     help="when the Hub holds another dataset under this version's name, publish a renamed copy "
                          "under the next free name (else refused, exit 1)")
    pub.set_defaults(handler=cmd_publish)
    pull = sub.add_parser("pull", help="bring a version published on the Hub back as the local LATEST")
    pull.add_argument("source", help="hf://datasets/OWNER/NAME")
    pull.add_argument("--revision", help="a version tag or commit (default: main)")
    pull.add_argument("--out", type=Path, required=True, help="root folder of the datasets")
    pull.add_argument("--name", help="the dataset's folder under --out (default: the repository's NAME)")
    pull.set_defaults(handler=cmd_pull)
    diff = sub.add_parser("diff", help="what changed between two versions (from A to B)",
                          description="What changed from version A (the older) to version B (the newer): papers "
                                      "added, removed and changed, with the columns that differ. A and B are "
                                      "version folders (ROOT/NAME/2026.12.06) or version names (2026.12.06.03) "
                                      "of --dataset, of the dataset the other one's folder is in, or of the "
                                      "current folder.")
    diff.add_argument("a", metavar="A", help="the older version: a folder or a version name")
    diff.add_argument("b", metavar="B", help="the newer version: a folder or a version name")
    diff.add_argument("--dataset", type=Path, metavar="ROOT/NAME",
                      help="the dataset folder whose versions A and B name (default: the current folder)")
    diff.add_argument("--json", action="store_true",
                      help="one JSON object: added, removed, changed (paper_key -> fields), counts")
    diff.set_defaults(handler=cmd_diff)
    register_prune(sub)


def cmd_prune(args: argparse.Namespace) -> int:
    """Remove all but the newest versions and run folders of a dataset."""
    from paperset.packager.prune import prune

    result = prune(args.dataset, args.keep, dry_run=args.dry_run, keep_archives=args.keep_archives)
    verb = "would remove" if args.dry_run else "removed"
    print(f"{verb} {len(result.removed_versions)} versions {result.removed_versions} and "
          f"{len(result.removed_runs)} run folders ({len(result.removed_archives)} web archives with them); kept "
          f"versions {result.kept_versions}",
          file=sys.stderr if args.json else sys.stdout)
    if args.json:
        print(json.dumps({**asdict(result), "dry_run": args.dry_run}, sort_keys=True))
    return Exit.OK


def register_prune(sub: argparse._SubParsersAction) -> None:
    """Add `paperset prune` to the parser."""
    parser = sub.add_parser("prune", help="remove old versions and run folders of a dataset (never LATEST's)")
    parser.add_argument("dataset", type=Path, help="the dataset folder, ROOT/NAME")
    parser.add_argument("--keep", type=int, required=True, metavar="N",
                        help="keep the N newest versions (and LATEST's, always) and the N newest run folders")
    parser.add_argument("--dry-run", action="store_true", help="say what would be removed; remove nothing")
    parser.add_argument("--keep-archives", action="store_true",
                        help="keep the web archives (archive/<run>*.warc.gz) of the run folders removed "
                             "(default: they go with their run)")
    parser.add_argument("--json", action="store_true", help="the kept and removed folders as one JSON line")
    parser.set_defaults(handler=cmd_prune)
