"""The script as built and its backends, set up before any paint request.

``--backend`` / ``--dpi`` applied to every panel (:func:`apply_overrides`),
every file a backend setting names confined to the script's folder
(:func:`confine_paths`: a script may come from a stranger), then every backend
the script uses instantiated and its configuration checked -- settings, key,
reachability -- with problems pointed at the setting's line
(:func:`create_backends`). ``book.py`` runs these before it paints or plans.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from comicc.backends import Backend, BackendError
from comicc.backends import load as load_backend
from comicc.diagnostics import Sink
from comicc.model import expand_home, ir, path_within
from comicc.pipeline.options import BuildOptions
from comicc.source import Span


def apply_overrides(script: ir.Script, opts: BuildOptions) -> ir.Script:
    """The script with ``--backend`` / ``--dpi`` applied to every panel."""
    if not opts.backend and not opts.dpi:
        return script

    def fix(s: ir.RenderSettings) -> ir.RenderSettings:
        if opts.backend:
            s = replace(s, backend=opts.backend)
        if opts.dpi:
            s = replace(s, dpi=opts.dpi)
        return s

    return _map_settings(script, fix)


def _map_settings(
    script: ir.Script, fix: Callable[[ir.RenderSettings], ir.RenderSettings]
) -> ir.Script:
    """The script with ``fix`` applied to its own and every panel's render settings."""
    pages = tuple(
        replace(p, panels=tuple(replace(pn, settings=fix(pn.settings)) for pn in p.panels))
        for p in script.pages
    )
    return replace(script, pages=pages, settings=fix(script.settings))


def confine_paths(script: ir.Script, sink: Sink, allow_paths: tuple[str, ...] = ()) -> ir.Script:
    """The script with every file a backend setting names (a setting of kind
    ``path``, such as ``comfyui.workflow``) made absolute from the script's
    folder; a file outside that folder and ``allow_paths`` is an error at its
    line (a script may come from a stranger: it must not read the machine)."""
    folder = Path(script.path).resolve().parent
    kinds: dict[str, set[str]] = {}
    reported: set[tuple[str, str]] = set()

    def path_keys(backend: str) -> set[str]:
        if backend not in kinds:
            try:
                factory = load_backend(backend)
            except BackendError:
                factory = None  # reported by create_backends
            table = (
                factory.SETTINGS
                if isinstance(factory, type) and issubclass(factory, Backend)
                else None
            )
            kinds[backend] = {k for k, spec in (table or {}).items() if spec.kind == "path"}
        return kinds[backend]

    def fix(st: ir.RenderSettings) -> ir.RenderSettings:
        changed = False
        out = []
        for key, value in st.backend_settings:
            backend, _, name = key.partition(".")
            if name in path_keys(backend) and value.strip():
                path = folder / expand_home(value.strip())
                if not path_within(path, (folder, *allow_paths)) and (key, value) not in reported:
                    reported.add((key, value))
                    sink.error(
                        "path-not-allowed",
                        f"`{key}` names `{value.strip()}`, outside the script's folder",
                        st.span_of(key),
                        hints=[
                            "a script reads files from its own folder; to allow this one, "
                            f"run comicc with `--allow-path {path.resolve().parent}`"
                        ],
                    )
                value, changed = str(path), True
            out.append((key, value))
        return replace(st, backend_settings=tuple(out)) if changed else st

    return _map_settings(script, fix)


def create_backends(
    script: ir.Script, sink: Sink, *, ready: bool = True
) -> dict[str, Backend] | None:
    """Instantiate every backend the script uses and check its configuration
    (settings, key, reachability) BEFORE any paint request is sent. Problems
    point at the setting's line (`stability.url: ...`, `backend: stability`).
    ``ready=False``: settings only, no key or server looked at (``comicc plan``)."""
    first_use: dict[str, ir.Panel] = {}
    for panel in script.panels:
        first_use.setdefault(panel.settings.backend, panel)
    out: dict[str, Backend] = {}
    for name, panel in first_use.items():
        backend = _create_backend(name, panel, script, sink, ready)
        if backend is not None:
            out[name] = backend
    return out if len(out) == len(first_use) else None


def _create_backend(
    name: str, first: ir.Panel, script: ir.Script, sink: Sink, ready: bool = True
) -> Backend | None:
    """Backend ``name`` configured by the settings of ``first``, the first panel
    using it; None (and diagnostics) when it cannot be used."""
    st = first.settings

    def where(key: str | None) -> Span | None:
        if key:
            span = st.span_of(f"{name}.{key}")
            if span is not None:
                return span
        return st.span_of("backend") or first.span

    def unavailable(e: BackendError, setting: str = "") -> None:
        sink.error(
            "backend-unavailable",
            f"backend `{name}` cannot be used: {setting}{e}",
            where(e.setting),
            hints=[e.hint] if e.hint else [],
        )

    try:
        factory = load_backend(name)
    except BackendError as e:
        unavailable(e)
        return None
    # a Backend subclass declares and checks its settings; a plain factory takes any
    spec = factory if isinstance(factory, type) and issubclass(factory, Backend) else None
    takes_model = spec is not None and spec.SETTINGS is not None and "model" in spec.SETTINGS

    def settings_of(panel: ir.RenderSettings) -> dict[str, str]:
        settings = panel.settings_for(name)
        if takes_model and st.model and "model" not in settings:  # the generic `model:`
            settings = {**settings, "model": panel.model or st.model}
        return settings

    if spec is not None:
        # every distinct set of settings a panel uses is checked, not only the first
        reported: set[tuple[str, str, int]] = set()
        checked: set[tuple[tuple[str, str], ...]] = set()
        for panel in script.panels:
            if panel.settings.backend != name:
                continue
            settings = settings_of(panel.settings)
            signature = tuple(sorted(settings.items()))
            if signature in checked:
                continue
            checked.add(signature)
            for problem in spec.validate_settings(settings):
                span = panel.settings.span_of(f"{name}.{problem.key}") or where(problem.key)
                key = (problem.key, problem.message, span.line if span else 0)
                if key in reported:
                    continue
                reported.add(key)
                hints = [problem.hint] if problem.hint else []
                sink.error("backend-setting", problem.message, span, hints=hints)
        if reported:
            return None
    try:
        backend = factory(**settings_of(st))
        if isinstance(backend, Backend) and ready:
            backend.preflight()
    except BackendError as e:
        named = e.setting and st.span_of(f"{name}.{e.setting}")
        unavailable(e, f"`{name}.{e.setting}`: " if named else "")
        return None
    return backend
