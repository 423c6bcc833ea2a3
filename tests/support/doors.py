"""The small book of doors the memo and rebuild tests build: a script made of
pages chosen from :data:`PAGES`, in the order given, numbered from 1."""

from __future__ import annotations

LONG_GO_AWAY = "Go away, and take that enormously long speech of yours with you, cat."

PAGES = {
    # two doors, a line each
    "doors": """layout: 1/1

PANEL 1
A red door.
CAT: Knock, knock.

PANEL 2
A blue door.
DOG: Who is there?
""",
    # two more doors: a caption and a line, then a panel with no lettering
    "more doors": """layout: 1/1

PANEL 1
A green door.
CAT (CAPTION): Meanwhile, across the street, a cat waited.
CAT: Open up!

PANEL 2
A yellow door.
""",
    # side by side: the dog's answer (``{go_away}``), the cat's last word
    "porch": """layout: 2

PANEL 1
A porch.
DOG: {go_away}

PANEL 2
A cat.
CAT: Never.
""",
}


def doors_script(title: str, *pages: str, go_away: str = LONG_GO_AWAY) -> str:
    """The script titled ``title`` of ``pages`` (names of :data:`PAGES`)."""
    body = "\n".join(
        f"PAGE {n}\n" + PAGES[name].format(go_away=go_away) for n, name in enumerate(pages, 1)
    )
    return f"title: {title}\ndpi: 72\n\n{body}"
