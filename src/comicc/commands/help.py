"""``comicc help [TOPIC]``: the documentation that ships with comicc, on the terminal.

Topics are the writers' documents (``docs/*.md``, in a wheel as package data:
see :func:`comicc.resources.docs_dir`) and the commands (``comicc help build``
is ``comicc build --help``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from comicc.commands.report import EXIT_ERRORS, EXIT_OK, EXIT_USAGE
from comicc.diagnostics import did_you_mean
from comicc.resources import docs_dir

# topic -> (file in docs/, what it is)
TOPICS: dict[str, tuple[str, str]] = {
    "language": ("language.md", "the .comic language, for writers"),
    "cli": ("cli.md", "commands, options, exit codes, the cache and the lock file"),
    "themes": ("themes.md", "page formats, fonts, balloon styles, prompt templates"),
    "backends": ("backends.md", "the image backends, masks, seeds and the cache"),
    "output": ("output.md", "PDF, CBZ and PNG output"),
    "security": ("security.md", "the threat model and what comicc promises"),
}


def register(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], common: Callable[..., None]
) -> None:
    """Add the ``help`` verb."""
    p = sub.add_parser(
        "help",
        help="the documentation: `comicc help language`, `comicc help build`",
        description="Print a document shipped with comicc, or a command's options. "
        "Without a topic: the list of topics.",
    )
    p.add_argument("topic", nargs="?", metavar="TOPIC", help="a document or a command")
    p.add_argument(
        "--debug", action="store_true", help="show Python tracebacks for internal errors"
    )


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse keeps its subparsers only here
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def cmd_help(args: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Print the topic (a document or a command's ``--help``), or the list of topics."""
    verbs = _commands(parser)
    topic = args.topic
    if topic is None:
        width = max(len(t) for t in (*TOPICS, *verbs))
        lines = ["Documents (comicc help TOPIC):"]
        lines += [f"  {t.ljust(width)}  {what}" for t, (_, what) in TOPICS.items()]
        lines.append("Commands (comicc help COMMAND is comicc COMMAND --help):")
        lines += [f"  {', '.join(v for v in verbs if v != 'help')}"]
        print("\n".join(lines))
        return EXIT_OK
    if topic in TOPICS:
        path = docs_dir() / TOPICS[topic][0]
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            print(
                f"comicc help: error: the document `{topic}` is not installed ({path}: "
                f"{e.strerror or e})",
                file=sys.stderr,
            )
            return EXIT_ERRORS
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        return EXIT_OK
    if topic in verbs:
        verbs[topic].print_help()
        return EXIT_OK
    close = did_you_mean(topic, [*TOPICS, *verbs])
    print(
        f"comicc help: error: no topic `{topic}`"
        + (f" (did you mean `{close[0]}`?)" if close else "")
        + "; topics: "
        + ", ".join(dict.fromkeys([*TOPICS, *(v for v in verbs if v != "help")])),
        file=sys.stderr,
    )
    return EXIT_USAGE
