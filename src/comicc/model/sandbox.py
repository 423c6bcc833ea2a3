"""The jinja2 environment prompt templates run in: sandboxed, and bounded.

A theme is untrusted (a writer may use one from a stranger), so its templates
run in jinja2's :class:`~jinja2.sandbox.ImmutableSandboxedEnvironment` (no
Python internals, no changing lists or dicts) with limits on everything that
can take memory or time:

- loops run at most :data:`MAX_LOOP_STEPS` steps in all, per render (every
  ``{% for %}`` counts, nested or not); ``range`` gives at most that many items;
- every string or list a template builds (``~``, ``+``, ``*``, a filter, a
  method) and the whole prompt are at most :data:`MAX_PROMPT_CHARS` long; a
  number argument (a width, a count) is at most :data:`MAX_NUMBER_ARG`;
  ``**`` and big integer products are refused;
- no macros, ``{% call %}``, recursive loops, ``include``, ``import`` or
  ``extends``; only the filters in :data:`FILTERS`, and no ``namespace``.

Breaking a limit raises :class:`TemplateLimit`; :func:`forbidden` lists the
constructs a template may not use, for the theme's checks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from jinja2 import StrictUndefined, nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.sandbox import ImmutableSandboxedEnvironment

# the limits, and the error breaking one raises, live with the jinja2-free renderer
from comicc.model.simple_template import MAX_LOOP_STEPS, MAX_PROMPT_CHARS, TemplateLimit

__all__ = ["MAX_LOOP_STEPS", "MAX_PROMPT_CHARS", "PromptEnvironment", "TemplateLimit", "forbidden"]

MAX_NUMBER_ARG = 10_000  # a number given to a filter or a method (a width, a count)
MAX_INT_BITS = 256  # integers a template computes stay below 2**256

# filters that cannot multiply their input (the others are not available)
FILTERS = (
    "abs attr batch capitalize count d default dictsort e escape first float "
    "forceescape int items join last length list lower map max min reject rejectattr "
    "replace reverse round safe select selectattr slice sort string striptags title "
    "tojson trim truncate unique upper urlencode wordcount"
).split()
# methods of str, list and dict a template may call
METHODS = frozenset(
    "upper lower strip lstrip rstrip title capitalize casefold swapcase startswith "
    "endswith split rsplit splitlines count find rfind index rindex isalpha isdigit "
    "isalnum isspace islower isupper istitle isnumeric isdecimal get keys values items "
    "removeprefix removesuffix replace join".split()
)
_FORBIDDEN: dict[type[nodes.Node], str] = {
    nodes.Macro: "macros (`{% macro %}`)",
    nodes.CallBlock: "`{% call %}` blocks",
    nodes.Include: "`{% include %}`",
    nodes.Import: "`{% import %}`",
    nodes.FromImport: "`{% from ... import %}`",
    nodes.Extends: "`{% extends %}`",
}


def forbidden(tree: nodes.Template) -> list[tuple[str, int]]:
    """The constructs of ``tree`` a prompt template may not use: (what, line)."""
    found = []
    for cls, what in _FORBIDDEN.items():
        found += [(what, node.lineno) for node in tree.find_all(cls)]
    found += [
        ("recursive loops", node.lineno) for node in tree.find_all(nodes.For) if node.recursive
    ]
    return sorted(found, key=lambda f: f[1])


def _check_size(value: Any) -> Any:
    if isinstance(value, (str, list, tuple)) and len(value) > MAX_PROMPT_CHARS:
        raise TemplateLimit(
            f"the template builds a value longer than {MAX_PROMPT_CHARS} characters"
        )
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > MAX_INT_BITS:
        raise TemplateLimit("the template computes a number too large to use")
    return value


def _check_args(args: Iterable[Any]) -> None:
    for a in args:
        if isinstance(a, (int, float)) and not isinstance(a, bool) and abs(a) > MAX_NUMBER_ARG:
            raise TemplateLimit(f"a number given to a filter or method is over {MAX_NUMBER_ARG}")


def _length(value: Any) -> int:
    return len(value) if isinstance(value, (str, list, tuple)) else len(str(value))


class _Generator(CodeGenerator):
    """Jinja2's code generator with checked ``~`` joins and counted loops
    (jinja2 allows no node types of one's own, so loops call ``environment.counted``)."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.checked_join((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        it = node.iter
        counted = (
            isinstance(it, nodes.Call)
            and isinstance(it.node, nodes.EnvironmentAttribute)
            and it.node.name == "counted"
        )
        if not counted:  # `for x in y` runs as `for x in environment.counted(y)`
            call = nodes.Call(nodes.EnvironmentAttribute("counted"), [it], [], None, None)
            node.iter = call.set_lineno(node.lineno)
        super().visit_For(node, frame)


def _joined_length(items: Iterable[Any], sep: Any) -> int:
    listed = list(items)
    return sum(_length(x) for x in listed) + max(0, len(listed) - 1) * _length(sep)


def _replaced_length(s: str, old: str, new: str) -> int:
    hits = len(s) + 1 if not old else s.count(old)
    return len(s) + hits * len(new)


def _capped_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` refusing big number arguments, and results too long to use."""
    skip = 1 if hasattr(func, "jinja_pass_arg") else 0  # the context jinja passes first

    def capped(*args: Any, **kwargs: Any) -> Any:
        value, rest = args[skip] if len(args) > skip else None, list(args[skip + 1 :])
        _check_args(rest + list(kwargs.values()))
        if name == "join" and value is not None:
            if not isinstance(value, (str, list, tuple)):  # a generator: look at it once
                value = list(value)
                args = (*args[:skip], value, *rest)
            sep = rest[0] if rest else kwargs.get("d", "")
            if _joined_length(value, sep) > MAX_PROMPT_CHARS:
                raise TemplateLimit("`join` would build a value too long to use")
        if name == "replace" and len(rest) >= 2:
            if _replaced_length(str(value), str(rest[0]), str(rest[1])) > MAX_PROMPT_CHARS:
                raise TemplateLimit("`replace` would build a value too long to use")
        return _check_size(func(*args, **kwargs))

    for attr in ("jinja_pass_arg", "__name__", "__doc__"):
        if hasattr(func, attr):
            setattr(capped, attr, getattr(func, attr))
    return capped


class PromptEnvironment(ImmutableSandboxedEnvironment):
    """The environment of every prompt template (one per :class:`PromptTemplates`)."""

    code_generator_class = _Generator
    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})

    def __init__(self) -> None:
        super().__init__(
            undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True
        )
        self.globals = {"range": self.safe_range}
        self.filters = {n: _capped_filter(n, f) for n, f in self.filters.items() if n in FILTERS}
        self.steps = MAX_LOOP_STEPS

    # ----------------------------------------------------------- the budget
    def reset(self) -> None:
        """A fresh loop budget, before each render."""
        self.steps = MAX_LOOP_STEPS

    def counted(self, iterable: Any) -> Iterator[Any]:
        for item in iterable:
            self.steps -= 1
            if self.steps < 0:
                raise TemplateLimit(f"the template's loops run more than {MAX_LOOP_STEPS} steps")
            yield item

    def safe_range(self, *args: int) -> range:
        r = range(*args)
        if len(r) > MAX_LOOP_STEPS:
            raise TemplateLimit(f"`range` is limited to {MAX_LOOP_STEPS} items")
        return r

    def checked_join(self, parts: Iterable[Any]) -> str:
        pieces = [str(p) for p in parts]
        if sum(len(p) for p in pieces) > MAX_PROMPT_CHARS:
            raise TemplateLimit(
                f"the template builds a value longer than {MAX_PROMPT_CHARS} characters"
            )
        return "".join(pieces)

    # ------------------------------------------------------ operators, calls
    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            if not all(isinstance(x, (int, float)) for x in (left, right)):
                raise TemplateLimit("`**` works on numbers only")
            if abs(right) > 64 or (
                abs(left) > 1 and abs(right) * math.log2(abs(left)) > MAX_INT_BITS
            ):
                raise TemplateLimit("`**` would compute a number too large to use")
        elif operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int):
                    if len(seq) * max(n, 0) > MAX_PROMPT_CHARS:
                        raise TemplateLimit("`*` would build a value too long to use")
            if isinstance(left, int) and isinstance(right, int):
                if left.bit_length() + right.bit_length() > MAX_INT_BITS:
                    raise TemplateLimit("`*` would compute a number too large to use")
        elif operator == "+":
            if isinstance(left, (str, list, tuple)) and isinstance(right, (str, list, tuple)):
                if len(left) + len(right) > MAX_PROMPT_CHARS:
                    raise TemplateLimit("`+` would build a value too long to use")
        elif operator == "%" and isinstance(left, str):
            raise TemplateLimit(
                "`%` formatting is not available in prompt templates; join with `~`"
            )
        return _check_size(super().call_binop(context, operator, left, right))

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        owner = getattr(__obj, "__self__", None)
        name = getattr(__obj, "__name__", "")
        if name in ("format", "format_map"):  # a format spec can ask for any width
            raise TemplateLimit(f"`{name}` is not available in prompt templates; join with `~`")
        if isinstance(owner, (str, list, tuple, dict)) and name not in METHODS:
            raise TemplateLimit(f"the method `{name}` is not available in prompt templates")
        _check_args(list(args) + list(kwargs.values()))
        if name == "join" and isinstance(owner, str) and args:
            if _joined_length(args[0], owner) > MAX_PROMPT_CHARS:
                raise TemplateLimit("`join` would build a value too long to use")
        if name == "replace" and isinstance(owner, str) and len(args) >= 2:
            if _replaced_length(owner, str(args[0]), str(args[1])) > MAX_PROMPT_CHARS:
                raise TemplateLimit("`replace` would build a value too long to use")
        return _check_size(super().call(__context, __obj, *args, **kwargs))
