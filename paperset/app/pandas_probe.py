"""pyarrow's pandas probe settled without importing pandas, for the commands that package.

The first time pyarrow converts Python values (`pa.array`, `pa.scalar`, a compute kernel given a Python
scalar) it imports pandas, about a quarter of a second, only to ask whether the values are pandas objects;
it asks once per process. paperset hands pyarrow no pandas objects, so its packaging commands let that one
question find no pandas. pyarrow's explicit pandas functions (`to_pandas`, `Table.from_pandas`) still import
pandas when called, and only after such a call does pyarrow recognise pandas objects again (before it,
`pa.array(a_series)` reads a Series as a plain sequence: missing values as NaN, not null); so this is for
the command processes, never for library use. A process that imported pandas already is left as it is.
The output does not change: the snapshot files are byte-identical either way
(tests/app/test_lazy_imports.py)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType


class _NoPandas:
    """A meta path finder that refuses `import pandas`."""

    def find_spec(self, name: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if name.split(".")[0] == "pandas":
            raise ModuleNotFoundError("pandas is not used by paperset's packager", name=name)
        return None


def skip_pandas_probe() -> None:
    """Let pyarrow's check whether pandas is installed run now and find none (see the module doc)."""
    if "pandas" in sys.modules:
        return
    import pyarrow as pa

    finder = _NoPandas()
    sys.meta_path.insert(0, finder)
    try:
        pa.array([0])
    finally:
        sys.meta_path.remove(finder)
