"""One segment of a folder near-dup index: an immutable folder `seg-<start>-<end>-<serial>/` of uncompressed
`.npy` arrays for the entries with ids start..end-1, opened without reading them (paperset/crawler/dedup/column.py:
only the rows a question needs are read) and never written again once renamed into place.

A segment holds `signatures` (n x num_perm uint32), the keys (`key_bytes` UTF-8 concatenated, `key_ends`
int64), `key_hashes` (uint64, sorted: a key's 64-bit BLAKE2b) with `key_order` (uint32: which entry of
the segment each hash is), its entries' band table (`band_hashes` uint64 sorted, `band_ids` uint32
global ids), and the cluster updates of the crawl that wrote it (`cluster_members` uint32 sorted,
`cluster_heads` uint32; a later segment's update of an entry overrides an earlier one's), and the fences of
the three sorted arrays (`key_fences`, `band_fences`, `cluster_fences`: every 512th value). `header.json`
names the format, the DedupeConfig, start and end, and the CRC-32 and size of every array file (its own
CRC-32 over the rest). A segment is written in a hidden temporary folder, each file fsynced, and renamed
into place, so a reader sees all of it or none of it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from paperset.crawler.dedup.column import fences
from paperset.crawler.errors import IndexUnreadable

FORMAT = "paperset-near-dup-segment"
VERSION = 1
HEADER = "header.json"
NAME = re.compile(r"^seg-(\d{10})-(\d{10})-(\d{6})$")
ARRAYS = {"signatures": np.uint32, "key_bytes": np.uint8, "key_ends": np.int64, "key_hashes": np.uint64,
          "key_order": np.uint32, "band_hashes": np.uint64, "band_ids": np.uint32,
          "cluster_members": np.uint32, "cluster_heads": np.uint32,
          "key_fences": np.uint64, "band_fences": np.uint64, "cluster_fences": np.uint32}
WAY_OUT = ("restore the folder from the dedupe-index/ copy in the newest published version of the dataset "
           "(ROOT/NAME/<version>/dedupe-index), or delete it to start an empty index (near copies of "
           "papers indexed before are then not linked)")


def unreadable(file: Path, exc: BaseException | str) -> IndexUnreadable:
    """The one error of an index file that cannot be read: the file, why, and the way out."""
    why = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
    return IndexUnreadable(f"the near-dup index {file} cannot be read ({why}): {WAY_OUT}")


def segment_name(start: int, end: int, serial: int) -> str:
    """`seg-<first id>-<end id>-<serial>`: the serial grows with each segment written to the folder, so a
    segment that rewrites others (a compaction) outranks what it covers."""
    return f"seg-{start:010d}-{end:010d}-{serial:06d}"


def key_hashes(keys: list[str]) -> np.ndarray:
    """The 64-bit BLAKE2b of each key's UTF-8 bytes, uint64."""
    return np.fromiter((int.from_bytes(hashlib.blake2b(k.encode("utf-8", "surrogatepass"), digest_size=8).digest(),
                                       "little") for k in keys), dtype=np.uint64, count=len(keys))


@dataclass
class SegmentArrays:
    """What a new segment holds, before it is written: keys and signatures in id order from `start`, the
    band table (sorted), the cluster updates (members sorted)."""

    start: int
    key_bytes: np.ndarray
    key_ends: np.ndarray
    hashes: np.ndarray  # key hashes, in id order
    signatures: list[np.ndarray]  # row blocks
    band_hashes: np.ndarray
    band_ids: np.ndarray
    cluster_members: np.ndarray
    cluster_heads: np.ndarray

    @property
    def end(self) -> int:
        return self.start + len(self.key_ends)


class _Summed:
    """A file that keeps the CRC-32 and size of what is written to it."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw, self.crc, self.size = raw, 0, 0

    def write(self, data: Any) -> int:
        self.crc = zlib.crc32(data, self.crc)
        self.size += memoryview(data).nbytes
        return self.raw.write(data)


def _write_array(file: Path, parts: list[np.ndarray], shape: tuple[int, ...], dtype: Any) -> tuple[int, int]:
    """One `.npy` file from consecutive row blocks, fsynced; (crc32, size)."""
    with file.open("wb") as raw:
        out = _Summed(raw)
        np.lib.format.write_array_header_2_0(out, {"descr": np.lib.format.dtype_to_descr(np.dtype(dtype)),
                                                   "fortran_order": False, "shape": shape})
        for part in parts:
            if part.size:
                out.write(np.ascontiguousarray(part, dtype=dtype).data.cast("B"))
        raw.flush()
        os.fsync(raw.fileno())
    return out.crc, out.size


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_segment(folder: Path, config: dict[str, Any], data: SegmentArrays, serial: int) -> Path:
    """Write `data` as the segment folder `folder/seg-<start>-<end>-<serial>` (a temporary folder, each file
    fsynced, renamed into place)."""
    folder.mkdir(parents=True, exist_ok=True)
    name = segment_name(data.start, data.end, serial)
    tmp = folder / f".{name}.tmp-{os.getpid()}"
    order = np.argsort(data.hashes, kind="stable")
    arrays = {"key_bytes": data.key_bytes, "key_ends": data.key_ends, "key_hashes": data.hashes[order],
              "key_order": order.astype(np.uint32), "band_hashes": data.band_hashes, "band_ids": data.band_ids,
              "cluster_members": data.cluster_members, "cluster_heads": data.cluster_heads}
    arrays |= {"key_fences": fences(arrays["key_hashes"]), "band_fences": fences(data.band_hashes),
               "cluster_fences": fences(data.cluster_members)}
    files: dict[str, dict[str, int]] = {}
    try:
        tmp.mkdir()
        width = int(config["num_perm"])
        crc, size = _write_array(tmp / "signatures.npy", data.signatures, (len(data.key_ends), width), np.uint32)
        files["signatures.npy"] = {"crc32": crc, "bytes": size}
        for key, array in arrays.items():
            crc, size = _write_array(tmp / f"{key}.npy", [array], array.shape, ARRAYS[key])
            files[f"{key}.npy"] = {"crc32": crc, "bytes": size}
        body = {"format": FORMAT, "version": VERSION, "config": config, "start": data.start, "end": data.end,
                "serial": serial, "files": files}
        text = json.dumps(body, sort_keys=True)
        header = {"body": body, "crc32": zlib.crc32(text.encode())}
        with (tmp / HEADER).open("w", encoding="utf-8") as out:
            out.write(json.dumps(header, sort_keys=True))
            out.flush()
            os.fsync(out.fileno())
        _fsync_dir(tmp)
        target = folder / name
        tmp.rename(target)
        _fsync_dir(folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def read_header(path: Path) -> dict[str, Any]:
    """The header of segment folder `path`, checked (format, its own CRC); IndexUnreadable otherwise."""
    file = path / HEADER
    try:
        header = json.loads(file.read_text(encoding="utf-8"))
        body = header["body"]
        if zlib.crc32(json.dumps(body, sort_keys=True).encode()) != header["crc32"]:
            raise ValueError("its CRC-32 does not match")
        if body.get("format") != FORMAT or body.get("version") != VERSION:
            raise ValueError(f"not a {FORMAT} version {VERSION} file")
        named = NAME.match(path.name)
        if named is None or (body["start"], body["end"], body["serial"]) != tuple(map(int, named.groups())):
            raise ValueError(f"its entries {body['start']}..{body['end']} are not its folder's")
        body["files"] = {name: body["files"][name] for name in [f"{key}.npy" for key in ARRAYS]}
    except (OSError, ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
        raise unreadable(file, exc) from None
    return body


def file_crc(file: Path) -> int:
    """The CRC-32 of a file, read in blocks (memory stays flat)."""
    crc = 0
    with file.open("rb") as raw:
        while block := raw.read(1 << 20):
            crc = zlib.crc32(block, crc)
    return crc
