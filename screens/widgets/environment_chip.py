"""The environment's name as every screen's top line and every confirmation show it.

"Am I on prod?" must never need a second look: a production environment (a name starting
with `prod`, console/environments.py) is white on purple, any other is reversed, and when
the config has several environments the header says which of them this is: `prod-eu (1/3)`.
Purple, not red: red already means READ-ONLY and SEV-1 beside it.
"""

from __future__ import annotations

from rich.text import Text

from console.config import Config
from console.environments import is_production, position
from console.text import plain

PRODUCTION_STYLE = "bold #ffffff on #8700d7"  # purple, not red and not the theme's pinkish magenta
OTHER_STYLE = "bold reverse"


def environment_tag(name: str) -> Text:
    return Text().append(f" {plain(name, 40)} ", style=PRODUCTION_STYLE if is_production(name) else OTHER_STYLE)


def environment_chip(config: Config) -> Text:
    text = environment_tag(config.environment)
    place = position(config)
    if place is not None:
        text.append(f"({place[0]}/{place[1]})", style="bold")
    return text
