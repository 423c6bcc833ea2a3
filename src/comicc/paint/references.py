"""What the build says about consistent characters, once per backend.

A panel's request carries the reference images and LoRAs of the characters
in it, as many as its backend declares it takes
(:attr:`~comicc.backends.Capabilities.max_references`, ``max_loras``; see
:func:`comicc.paint.plan.character_inputs`). When a backend takes none, or
fewer than a panel has, the build says so ONCE for that backend, not per
panel: at the first ``ref:``/``lora:`` line it leaves out, with the
``backend:`` line as a second location.
"""

from __future__ import annotations

from collections.abc import Mapping

from comicc.backends import Backend
from comicc.diagnostics import Diagnostic, Label, Severity
from comicc.model import ir
from comicc.source import Span


def _names(items: list[str]) -> str:
    unique = list(dict.fromkeys(items))
    return ", ".join(f"`{n}`" for n in unique)


def reference_warnings(script: ir.Script, backends: Mapping[str, Backend]) -> list[Diagnostic]:
    """One ``references-ignored`` warning per backend that leaves out some of
    the reference images or LoRAs of the characters in its panels."""
    out: list[Diagnostic] = []
    by_backend: dict[str, list[ir.Panel]] = {}
    for panel in script.panels:
        if panel.references or panel.loras:
            by_backend.setdefault(panel.settings.backend, []).append(panel)
    for name, panels in by_backend.items():
        backend = backends.get(name)
        if backend is None:
            continue
        caps = backend.capabilities
        kinds: list[str] = []  # what the backend cannot use at all
        dropped: list[str] = []  # and what is therefore left out, in words
        first: Span | None = None
        refs_of = [p for p in panels if p.references]
        loras_of = [p for p in panels if p.loras]
        if refs_of and caps.max_references == 0:
            kinds.append("reference images")
            dropped.append(
                "the reference images of "
                + _names([r.character for p in refs_of for r in p.references])
            )
            first = first or refs_of[0].references[0].span
        if loras_of and caps.max_loras == 0:
            lora_names = [lo.name for p in loras_of for lo in p.loras]
            kinds.append("LoRAs")
            plural = "s" if len(set(lora_names)) > 1 else ""
            dropped.append(f"the LoRA{plural} " + _names(lora_names))
            first = first or loras_of[0].loras[0].span
        over: list[str] = []
        for what, limit, field in (
            ("reference images", caps.max_references, "references"),
            ("LoRAs", caps.max_loras, "loras"),
        ):
            if limit == 0:
                continue
            for panel in panels:
                items = getattr(panel, field)
                distinct = {r.sha256 if field == "references" else r.name for r in items}
                if len(distinct) > limit:
                    over.append(
                        f"`{name}` takes at most {limit} {what} a panel: page {panel.page}, "
                        f"panel {panel.number} has {len(distinct)}; the first {limit} "
                        "(in the order the characters are defined) are sent"
                    )
                    first = first or items[limit].span
                    break
        if not dropped and not over:
            continue
        backend_span = panels[0].settings.span_of("backend")
        labels = (Label(backend_span, f"`{name}` chosen here"),) if backend_span else ()
        if dropped:
            message = (
                f"the `{name}` backend cannot use {' or '.join(kinds)}: "
                f"{' and '.join(dropped)} are not sent"
            )
            if over:
                message += "; " + "; ".join(over)
            hints = (
                "see `comicc backends` for the backends that take them "
                "(automatic1111, comfyui, openai; replicate with google/nano-banana)",
            )
        else:
            message = "; ".join(over)
            hints = ("name fewer reference images or LoRAs for the characters who share panels",)
        out.append(
            Diagnostic(
                Severity.WARNING,
                "references-ignored",
                message,
                first,
                label="not sent",
                labels=labels,
                hints=hints,
            )
        )
    return out
