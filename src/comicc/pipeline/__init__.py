"""The library API: check a script (compile.py), build it into a book (book.py).

Each name is imported from its module when first used, so checking a script
never loads the painting half (layout, paint, backends, output).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from comicc.lazy import lazy_names

if TYPE_CHECKING:
    from comicc.pipeline.book import build, layout, locked_sizes, plan_book
    from comicc.pipeline.compile import Checked, check, check_source, load_source
    from comicc.pipeline.options import OUTPUT_FORMATS, BuildOptions, BuildResult, Repaint
    from comicc.pipeline.plan import BackendPlan, BookPlan, PlannedImage

# name -> the module defining it
_HOME = {
    "Checked": "compile",
    "check": "compile",
    "check_source": "compile",
    "load_source": "compile",
    "OUTPUT_FORMATS": "options",
    "BuildOptions": "options",
    "BuildResult": "options",
    "Repaint": "options",
    "build": "book",
    "layout": "book",
    "locked_sizes": "book",
    "plan_book": "book",
    "BackendPlan": "plan",
    "BookPlan": "plan",
    "PlannedImage": "plan",
}

__all__ = [
    "OUTPUT_FORMATS",
    "BuildOptions",
    "BuildResult",
    "Repaint",
    "BackendPlan",
    "BookPlan",
    "Checked",
    "PlannedImage",
    "build",
    "check",
    "check_source",
    "layout",
    "load_source",
    "locked_sizes",
    "plan_book",
]

__getattr__, __dir__ = lazy_names(__name__, _HOME)
