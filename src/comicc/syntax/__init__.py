"""The syntax of .comic scripts: parsing into a syntax tree, and the canonical formatter."""

from comicc.syntax import ast
from comicc.syntax.formatter import format_script
from comicc.syntax.numbers import number_value, number_word
from comicc.syntax.parser import parse

__all__ = ["ast", "format_script", "number_value", "number_word", "parse"]
