"""numpy and pandas, imported when first used instead of when the app starts.

Together they are about a third of a second of every `flask` command and every server worker's
start, and most requests never touch them (pages read SQL aggregates). The modules that analyse
data write `from reviewapp.lazy import np, pd` and use them as usual: the first attribute read
imports the library (under Python's import lock, so two threads get the same, whole module) and
copies its names onto the stand-in, so later reads cost what a module attribute costs.
"""

from __future__ import annotations

import importlib
import types
from typing import TYPE_CHECKING, Any


class LazyModule(types.ModuleType):
    """Stands in for the module `name` until an attribute is first read."""

    def __getattr__(self, attribute: str) -> Any:  # only names not copied yet come here
        module = importlib.import_module(self.__name__)
        self.__dict__.update(vars(module))
        return getattr(module, attribute)


if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
else:
    np = LazyModule("numpy")
    pd = LazyModule("pandas")
