"""The card's per-day chart: a valid PNG, the same bytes for the same days, one bar a day to scale."""

from __future__ import annotations

import struct
import zlib

import numpy as np

from packager.card import chart


def pixels(data: bytes) -> np.ndarray:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    start = data.index(b"IDAT") + 4
    length = struct.unpack(">I", data[start - 8:start - 4])[0]
    raw = np.frombuffer(zlib.decompress(data[start:start + length]), dtype=np.uint8)
    return raw.reshape(height, 1 + width * 3)[:, 1:].reshape(height, width, 3)


def test_chart_is_deterministic_and_draws_each_day_to_scale(tmp_path) -> None:
    days = [("2025-01-06", 10), ("2025-01-07", 5), ("2025-01-08", 0), ("2025-01-09", 10)]
    chart(days, tmp_path / "a.png")
    chart(days, tmp_path / "b.png")
    data = (tmp_path / "a.png").read_bytes()
    assert data == (tmp_path / "b.png").read_bytes()
    image = pixels(data)
    assert image.shape == (240, 640, 3)
    bar = np.all(image == (0x4B, 0x6F, 0xA8), axis=2)
    heights = [int(bar[:, 8 + 156 * n + 78].sum()) for n in range(4)]
    assert heights == [224, 112, 0, 224]


def test_chart_of_no_days_is_an_empty_plot(tmp_path) -> None:
    chart([], tmp_path / "empty.png")
    assert not np.all(pixels((tmp_path / "empty.png").read_bytes()) == (0x4B, 0x6F, 0xA8), axis=2).any()
