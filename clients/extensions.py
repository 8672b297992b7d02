"""Extension points of the client card, so other apps add to it without clients importing them.

- timeline providers: ``register_timeline(fn)`` where ``fn(client, user, limit)`` returns a list
  of ``TimelineItem``; the card merges them with interactions and settlements, newest first.
  An item with money sets ``amount`` (a Decimal), never an amount formatted into ``text``: the
  card shows it with the ``money`` filter in the viewer's language.
- card actions: ``register_card_action(fn)`` where ``fn(client, user)`` returns a list of
  ``CardAction`` (a button on the card, e.g. "Register a complaint").
- card panels: ``register_card_panel(fn)`` where ``fn(client, user)`` returns a ``CardPanel``
  or None (a titled block rendered from its own template).

Apps register in their ``AppConfig.ready()``.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class TimelineItem:
    at: datetime
    kind: str  # css hook: interaction, settlement, complaint, survey, deal ...
    title: str
    text: str = ""
    url: str = ""
    icon: str = "dot"
    badge: str = ""
    amount: Decimal | None = None  # money, shown after the text in the viewer's format


@dataclass(frozen=True)
class CardAction:
    label: str
    url: str
    icon: str = "plus"
    style: str = "outline-secondary"


@dataclass(frozen=True)
class CardPanel:
    title: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    order: int = 100


_timeline: list[Callable] = []
_actions: list[Callable] = []
_panels: list[Callable] = []


def _register(registry: list[Callable], fn: Callable) -> Callable:
    if fn not in registry:
        registry.append(fn)
    return fn


def register_timeline(fn: Callable) -> Callable:
    return _register(_timeline, fn)


def register_card_action(fn: Callable) -> Callable:
    return _register(_actions, fn)


def register_card_panel(fn: Callable) -> Callable:
    return _register(_panels, fn)


def timeline_items(client, user, limit: int) -> list[TimelineItem]:
    items: list[TimelineItem] = []
    for provider in _timeline:
        items.extend(provider(client, user, limit))
    return items


def card_actions(client, user) -> list[CardAction]:
    return [action for fn in _actions for action in fn(client, user)]


def card_panels(client, user) -> list[CardPanel]:
    panels = [p for fn in _panels if (p := fn(client, user)) is not None]
    return sorted(panels, key=lambda p: p.order)
