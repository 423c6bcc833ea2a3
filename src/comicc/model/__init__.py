"""The language's meaning: lowering a syntax tree into the IR (:mod:`comicc.model.ir`).

``PromptEnvironment`` (the jinja2 sandbox) is loaded when first asked for:
checking a script whose theme's templates are simple never loads jinja2."""

from typing import TYPE_CHECKING

from comicc.lazy import lazy_names
from comicc.model import ir
from comicc.model.checks import check_page_numbering, check_page_numbers, check_page_words
from comicc.model.header import XML_FORBIDDEN
from comicc.model.lower import Lowerer, lower
from comicc.model.paths import expand_home, is_theme_path, path_within, script_path
from comicc.model.prompt import PromptTemplates, TemplateProblem, compile_template, render_capped
from comicc.model.resolve import Context
from comicc.model.simple_template import MAX_PROMPT_CHARS, SimpleTemplate, parse_simple
from comicc.model.values import LAYOUT_PRESETS

if TYPE_CHECKING:
    from comicc.model.sandbox import PromptEnvironment

__all__ = [
    "LAYOUT_PRESETS",
    "MAX_PROMPT_CHARS",
    "XML_FORBIDDEN",
    "PromptEnvironment",
    "Context",
    "Lowerer",
    "check_page_numbering",
    "check_page_numbers",
    "check_page_words",
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
    "SimpleTemplate",
    "parse_simple",
]

_HOME = {"PromptEnvironment": "sandbox"}  # jinja2: loaded when asked for

__getattr__, __dir__ = lazy_names(__name__, _HOME)
