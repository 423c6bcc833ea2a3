"""The language's meaning: lowering a syntax tree into the IR (:mod:`comicc.model.ir`)."""

from comicc.model import ir
from comicc.model.header import XML_FORBIDDEN
from comicc.model.lower import lower
from comicc.model.paths import expand_home, is_theme_path, path_within, script_path
from comicc.model.prompt import PromptTemplates, TemplateProblem, compile_template, render_capped
from comicc.model.resolve import Context
from comicc.model.sandbox import MAX_PROMPT_CHARS, PromptEnvironment
from comicc.model.values import LAYOUT_PRESETS

__all__ = [
    "LAYOUT_PRESETS",
    "MAX_PROMPT_CHARS",
    "XML_FORBIDDEN",
    "PromptEnvironment",
    "Context",
    "PromptTemplates",
    "TemplateProblem",
    "compile_template",
    "ir",
    "expand_home",
    "is_theme_path",
    "lower",
    "path_within",
    "render_capped",
    "script_path",
]
