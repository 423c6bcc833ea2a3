"""The jinja2-free renderer of simple prompt templates gives jinja2's string:
for every template it accepts, the same text (and the same variables) as
jinja2 in the sandbox; anything else it leaves to jinja2."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import meta

from comicc.model.prompt import PromptTemplates, compile_template, render_capped
from comicc.model.sandbox import MAX_LOOP_STEPS, PromptEnvironment
from comicc.model.simple_template import parse_simple
from comicc.resources import themes_dir

NAMES = ["description", "page", "name", "x"]  # the values printed (a list is not)
LISTS = ["items", "style", "characters"]
WS = st.sampled_from(["", " ", "  ", "\n", " \n ", "\n\n", "\t", "\n  ", ", "])


def _tag(open_: str, inner: str, close: str, strip: tuple[bool, bool], pad: str) -> str:
    return f"{open_}{'-' if strip[0] else ''}{pad}{inner}{pad}{'-' if strip[1] else ''}{close}"


@st.composite
def templates(draw: st.DrawFn, depth: int = 0) -> str:
    out = []
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["text", "var", "for"] if depth < 2 else ["text", "var"]))
        strip = (draw(st.booleans()), draw(st.booleans()))
        pad = draw(st.sampled_from([" ", "", "  "]))
        if kind == "text":
            out.append(draw(WS) + draw(st.sampled_from(["a", ", b", "c.", "x y", "}", "%"])))
        elif kind == "var":
            name = draw(st.sampled_from(NAMES + ["it"] if depth else NAMES))
            out.append(_tag("{{", name, "}}", strip, pad))
        else:
            seq = draw(st.sampled_from(LISTS))
            out.append(_tag("{%", f"for it in {seq}", "%}", strip, pad))
            out.append(draw(WS) + draw(templates(depth + 1)) + draw(WS))
            out.append(_tag("{%", "endfor", "%}", (draw(st.booleans()), draw(st.booleans())), pad))
        out.append(draw(WS))
    return "".join(out) + draw(st.sampled_from(["", "\n"]))


CONTEXT: dict[str, Any] = {
    "description": "a hamster",
    "items": ["moon", "inks"],
    "style": ["comic"],
    "characters": [],
    "page": 3,
    "name": "HAMMY",
    "x": "",
}


def _jinja(text: str, context: dict[str, Any]) -> str:
    env = PromptEnvironment()
    return render_capped(env, compile_template(env, text, "t"), "t", **context)


@settings(max_examples=400, deadline=None)
@given(templates())
def test_a_simple_template_renders_as_jinja2_renders_it(text: str) -> None:
    simple = parse_simple(text)
    assert simple is not None, text
    env = PromptEnvironment()
    assert simple.variables == meta.find_undeclared_variables(env.parse(text))
    assert simple.render(CONTEXT) == _jinja(text, CONTEXT)


def test_the_shipped_themes_templates_are_simple() -> None:
    for path in sorted(Path(themes_dir()).glob("*.toml")):
        prompt = tomllib.loads(path.read_text(encoding="utf-8")).get("prompt", {})
        for key in ("template", "character"):
            if key in prompt:
                assert parse_simple(prompt[key]) is not None, (path.name, key)


@pytest.mark.parametrize(
    "text",
    [
        "{{ description|upper }}",
        "{{ a ~ b }}",
        "{# note #}{{ description }}",
        "{% if items %}x{% endif %}",
        "{% for i in items %}{{ loop.index }}{% endfor %}",
        "{% for i in items %}x",
        "{% endfor %}",
        "{{ true }}",
        "a\r\nb",
        "{%+ for i in items %}x{% endfor %}",
        "{% raw %}{{ x }}{% endraw %}",
    ],
)
def test_anything_else_is_left_to_jinja2(text: str) -> None:
    assert parse_simple(text) is None


def test_values_it_cannot_be_sure_of_go_to_jinja2() -> None:
    simple = parse_simple("{{ page }}{% for i in items %}{{ i }}{% endfor %}")
    assert simple is not None
    assert simple.render({"page": 1, "items": ["a"]}) == "1a"
    assert simple.render({"page": 1.5, "items": []}) is None  # not a str or int
    assert simple.render({"page": [1], "items": []}) is None  # a list printed whole
    assert simple.render({"page": 1, "items": "ab"}) is None  # a loop over a string
    assert simple.render({"items": []}) is None  # undefined: jinja2's error
    assert simple.render({"page": 1, "items": ["a"] * (MAX_LOOP_STEPS + 1)}) is None


def test_the_limits_are_jinja2s_for_a_simple_template() -> None:
    templates = PromptTemplates("{% for i in items %}{{ i }}{% endfor %}", "{{ name }}")
    with pytest.raises(Exception, match="loops run more than"):
        templates.render(
            description="",
            items=["a"] * (MAX_LOOP_STEPS + 1),
            style=[],
            characters=[],
            page=1,
            panel=1,
        )
    long = "x" * (64 * 1024 + 1)
    with pytest.raises(Exception, match="longer than 64 KiB"):
        templates.render(description="", items=[long], style=[], characters=[], page=1, panel=1)
