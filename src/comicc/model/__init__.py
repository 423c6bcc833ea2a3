"""The language's meaning: lowering a syntax tree into the IR (:mod:`comicc.model.ir`)."""

from comicc.model import ir
from comicc.model.lower import lower
from comicc.model.prompt import PromptTemplates, TemplateProblem
from comicc.model.resolve import Context
from comicc.model.values import LAYOUT_PRESETS, is_theme_path

__all__ = [
    "LAYOUT_PRESETS",
    "Context",
    "PromptTemplates",
    "TemplateProblem",
    "ir",
    "is_theme_path",
    "lower",
]
