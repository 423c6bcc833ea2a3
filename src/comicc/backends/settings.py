"""Backend settings: each backend's ``SETTINGS`` of :class:`SettingSpec`, and one validator.

A backend setting is a script's dotted ``backend.key: value`` line (``stability.cfg_scale:
7``); the backend sees it with the prefix removed (``cfg_scale``). Every backend declares
``SETTINGS: Mapping[str, SettingSpec]``; :func:`setting_problems` checks names (with
did-you-mean) and values without any I/O, and :func:`setting_values` gives the typed values
with the defaults filled in.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from comicc.diagnostics import did_you_mean

SettingKind = Literal["str", "path", "int", "float", "bool", "url", "urls"]
# "path": a file the script names; the pipeline resolves it from the script's
# folder and confines it there (or to an --allow-path folder) before the
# backend sees it
SettingValue = str | int | float | bool | tuple[str, ...] | None

TRUE_WORDS = ("true", "yes", "on", "1")
FALSE_WORDS = ("false", "no", "off", "0")


@dataclass(frozen=True)
class SettingProblem:
    """A bad backend setting: ``key`` without the backend prefix."""

    key: str
    message: str
    hint: str | None = None


@dataclass(frozen=True)
class SettingSpec:
    """One backend setting: its kind, limits, default and one line of help.

    ``range`` is (lowest, highest) for numbers, ``highest`` None for no upper limit;
    ``choices`` the only values allowed (compared case-insensitively for text, the
    value is then the choice's own spelling); ``pattern`` (regular expression, what it
    is) a ``str`` must match in full; ``example`` is the hint for a bad value.
    """

    kind: SettingKind
    help: str
    default: SettingValue = None
    range: tuple[float, float | None] | None = None
    choices: tuple[str | int, ...] = ()
    pattern: tuple[str, str] | None = None
    example: str | None = None


class InvalidSetting(ValueError):
    """A value :func:`parse_setting` cannot accept; ``problem`` says why."""

    def __init__(self, problem: SettingProblem):
        super().__init__(problem.message)
        self.problem = problem


def parse_url(raw: str) -> str:
    """``raw`` as an http(s) address without a trailing slash; ValueError if it is not one."""
    url = raw.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        hint = f" (write `http://{url}`)" if "://" not in url and url else ""
        raise ValueError(f"`{raw.strip()}` is not an http:// or https:// address{hint}")
    return url


def choice_hint(value: str, known: Iterable[str], *, cutoff: float = 0.5) -> str:
    """ "did you mean `x`?", else the first dozen of ``known``."""
    listed = list(known)
    if close := did_you_mean(value, listed, n=1, cutoff=cutoff):
        return f"did you mean `{close[0]}`?"
    return "available: " + ", ".join(listed[:12]) + (" ..." if len(listed) > 12 else "")


def parse_setting(backend: str, key: str, spec: SettingSpec, raw: str) -> SettingValue:
    """The typed value of ``raw``; :class:`InvalidSetting` with a message for the writer."""
    name = f"{backend}.{key}"
    text = str(raw).strip()

    def bad(message: str, hint: str | None = None) -> InvalidSetting:
        return InvalidSetting(SettingProblem(key, f"`{name}` {message}", hint))

    if spec.kind in ("url", "urls"):
        items = [u for u in (p.strip() for p in text.replace("\n", ",").split(",")) if u]
        if not items:
            raise bad("lists no address", spec.example)
        if spec.kind == "url" and len(items) > 1:
            raise bad("is one address (`urls` takes several)")
        try:
            urls = tuple(parse_url(u) for u in items)
        except ValueError as e:
            raise bad(f"must be an http(s) address: {e}", spec.example) from None
        return urls if spec.kind == "urls" else urls[0]
    if spec.kind == "bool":
        if text.lower() not in TRUE_WORDS + FALSE_WORDS:
            raise bad(f"must be true or false, not `{text}`")
        return text.lower() in TRUE_WORDS
    value: str | int | float
    if spec.kind in ("str", "path"):
        value = text
        if spec.pattern is not None and not re.fullmatch(spec.pattern[0], text):
            raise bad(f"is not {spec.pattern[1]}: `{text}`", spec.example)
    else:
        try:
            value = int(text) if spec.kind == "int" else float(text)
        except ValueError:
            what = "a whole number" if spec.kind == "int" else "a number"
            raise bad(f"must be {what}, not `{text}`", spec.example) from None
        if value != value or value in (float("inf"), float("-inf")):
            raise bad(f"must be a finite number, not `{text}`")
        if spec.range is not None:
            lo, hi = spec.range
            if value < lo or (hi is not None and value > hi):
                span = f"at least {lo:g}" if hi is None else f"from {lo:g} to {hi:g}"
                raise bad(f"must be {span}, not `{text}`", spec.example)
    if spec.choices:
        by_text = {str(c).lower(): c for c in spec.choices}
        if str(value).lower() not in by_text:
            listed = [str(c) for c in spec.choices]
            close = did_you_mean(text, listed, n=1)
            hint = f"did you mean `{name}: {close[0]}`?" if close else spec.example
            raise bad(f"must be one of {', '.join(listed)}, not `{text}`", hint)
        return by_text[str(value).lower()]
    return value


def unknown_settings(
    backend: str, table: Mapping[str, SettingSpec], settings: Iterable[str]
) -> list[SettingProblem]:
    """A problem with a did-you-mean for every name ``table`` does not have."""
    out = []
    for key in settings:
        if key not in table:
            close = did_you_mean(key, table, n=1)
            hint = (
                f"did you mean `{backend}.{close[0]}`?"
                if close
                else f"{backend} settings: " + ", ".join(sorted(table))
            )
            out.append(SettingProblem(key, f"`{backend}` has no setting `{key}`", hint))
    return out


def setting_problems(
    backend: str, table: Mapping[str, SettingSpec], settings: Mapping[str, str]
) -> list[SettingProblem]:
    """Problems with the names and values of ``settings`` (no I/O), in their order."""
    out = unknown_settings(backend, table, settings)
    for key, raw in settings.items():
        if key in table:
            try:
                parse_setting(backend, key, table[key], raw)
            except InvalidSetting as e:
                out.append(e.problem)
    return out


class SettingValues(Mapping[str, SettingValue]):
    """Typed backend settings, every name of the table present (defaults filled in)."""

    def __init__(self, values: Mapping[str, SettingValue]):
        self._values = dict(values)

    def __getitem__(self, key: str) -> SettingValue:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def text(self, key: str) -> str:
        value = self._values[key]
        return "" if value is None else str(value)

    def optional_text(self, key: str) -> str | None:
        value = self._values[key]
        return None if value is None else str(value)

    def integer(self, key: str) -> int:
        value = self._values[key]
        assert isinstance(value, int) and not isinstance(value, bool), key
        return value

    def number(self, key: str) -> float:
        value = self._values[key]
        assert isinstance(value, int | float) and not isinstance(value, bool), key
        return float(value)

    def optional_number(self, key: str) -> float | None:
        return None if self._values[key] is None else self.number(key)

    def flag(self, key: str) -> bool:
        value = self._values[key]
        assert isinstance(value, bool), key
        return value

    def urls(self, key: str) -> tuple[str, ...]:
        value = self._values[key]
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,)
        assert isinstance(value, tuple), key
        return value


def setting_values(
    backend: str, table: Mapping[str, SettingSpec], settings: Mapping[str, str]
) -> SettingValues:
    """Every setting of ``table`` typed (names not in it are ignored: the build reported
    them); the first bad value raises :class:`InvalidSetting`."""
    return SettingValues(
        {
            key: parse_setting(backend, key, spec, settings[key])
            if key in settings
            else spec.default
            for key, spec in table.items()
        }
    )
