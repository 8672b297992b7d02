"""The extension points of the client base: other apps add to the client card, the client list
and My day without ``clients`` importing them (``clients`` is below every other app;
docs/architecture.md, "Extension points").

The client card:

- timeline providers: ``register_timeline(fn)`` where ``fn(client, user, limit)`` returns a list
  of ``TimelineItem``; the card merges them with interactions and settlements, newest first.
  An item with money sets ``amount`` (a Decimal), never an amount formatted into ``text``: the
  card shows it with the ``money`` filter in the viewer's language.
- card actions: ``register_card_action(fn)`` where ``fn(client, user)`` returns a list of
  ``CardAction`` (a button on the card, e.g. "Register a complaint").
- card panels: ``register_card_panel(fn)`` where ``fn(client, user)`` returns a ``CardPanel``
  or None (a titled block rendered from its own template).

The client list (the page, its export and the API share one FilterSet) and My day:
- ``register_client_list(ClientListExtension(...))``: filters, sorts, the related rows each list
  row shows, and optional shortcuts for the count and the page of the whole base;
- ``register_contact_cadence(ContactCadence(...))``: which clients are overdue for contact and
  in which order My day lists them. Without one, no client is overdue.
- ``register_my_day_section(fn)``: ``fn(user, today, limit)`` returns a ``MyDaySection`` or
  None (a titled block of My day rendered from its own template, e.g. the pipeline's deals
  that need attention, each of its lists cut to ``limit`` rows).

Events of the client base:
- ``register_on_clients_changed(fn)``: ``fn(client_ids)`` is called inside the transaction that
  changed clients' account manager or target segment (the client form and API, the import),
  before it commits; a listener's error undoes the write. Surveys moves the clients' answers
  in its analytics rollups.
- ``register_on_settlements_created(fn)``: ``fn(settlement_ids)`` is called after the transaction
  that created settlements (the settlement form and API, the import) committed; a failing
  listener is logged, never undoes the write. Surveys detects a first purchase in a product line.

An app puts what it adds in its ``card.py`` (card) and ``client_list.py`` (list, cadence) and
registers them in its ``AppConfig.ready()``.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from functools import partial
from typing import Any

from django.core.paginator import Page
from django.db import transaction
from django.db.models import QuerySet


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


# --- the client list and My day -------------------------------------------------------------


@dataclass(frozen=True)
class ListScope:
    """What a list extension may need to know of the list it filters or sorts."""

    own_clients: bool  # one account manager's clients (a few thousand), not the whole base


@dataclass(frozen=True)
class ListSort:
    label: str
    apply: Callable[[QuerySet, ListScope], QuerySet]  # the ordering, ending with a unique key


@dataclass(frozen=True)
class ClientListExtension:
    """What an app adds to the client list.

    - ``filters``: name -> a django-filter ``Filter`` factory (called once per FilterSet class);
      ``apply_filter(queryset, name, value, scope)`` applies one of them.
    - ``sorts``: key -> ``ListSort``, offered after the list's own sorts.
    - ``row_related`` / ``row_fields``: ``select_related`` and ``only`` additions for each row
      (the columns and badges the list and the card header show).
    - ``api_fields``: name -> a read-only serializer field factory for the client API.
    - ``total(used)``: the list's exact size from the filters in use alone (a manager's list of
      the whole base; ``used`` maps filter names to values, the sort excluded), or None.
    - ``paginate(queryset, used, sort, number, per_page)``: a page of the whole base read a
      cheaper way for this sort, or None to let the list page it.
    """

    filters: dict[str, Callable[[], Any]] = field(default_factory=dict)
    apply_filter: Callable[[QuerySet, str, Any, ListScope], QuerySet] | None = None
    sorts: dict[str, ListSort] = field(default_factory=dict)
    row_related: tuple[str, ...] = ()
    row_fields: tuple[str, ...] = ()
    api_fields: dict[str, Callable[[], Any]] = field(default_factory=dict)
    total: Callable[[dict], int | None] | None = None
    paginate: Callable[[QuerySet, dict, str, Any, int], Page | None] | None = None


@dataclass(frozen=True)
class ContactCadence:
    """How often clients must be contacted: ``overdue(queryset, now)`` narrows a client
    queryset to the clients overdue for contact (annotated with ``contact_since``: the last
    contact, or the day the client was added), ``order`` is My day's order of them."""

    overdue: Callable[[QuerySet, datetime], QuerySet]
    order: tuple


_list_extensions: list[ClientListExtension] = []
_list_listeners: list[Callable[[ClientListExtension], None]] = []
_cadence: list[ContactCadence] = []


def register_client_list(extension: ClientListExtension) -> ClientListExtension:
    if extension not in _list_extensions:
        _list_extensions.append(extension)
        for listener in _list_listeners:
            listener(extension)
    return extension


def on_client_list_extension(listener: Callable[[ClientListExtension], None]) -> None:
    """Call ``listener`` with every list extension, those registered already and later ones
    (the client FilterSet adds their filters to its class, so the API schema shows them)."""
    _list_listeners.append(listener)
    for extension in _list_extensions:
        listener(extension)


def client_list_extensions() -> list[ClientListExtension]:
    return list(_list_extensions)


def register_contact_cadence(cadence: ContactCadence) -> ContactCadence:
    _cadence[:] = [cadence]
    return cadence


def contact_cadence() -> ContactCadence | None:
    return _cadence[0] if _cadence else None


# --- My day: sections of other apps ----------------------------------------------------------


@dataclass(frozen=True)
class MyDaySection:
    """A block of My day: ``template`` is rendered with ``section`` (this object) and the
    context's ``day``; ``count`` is shown beside the title (None: no badge)."""

    key: str  # the block's id on the page
    title: str
    template: str
    context: dict[str, Any] = field(default_factory=dict)
    count: int | None = None
    order: int = 100


_my_day_sections: list[Callable] = []


def register_my_day_section(fn: Callable) -> Callable:
    return _register(_my_day_sections, fn)


def my_day_sections(user, today, limit: int) -> list[MyDaySection]:
    """The blocks of My day, each showing at most ``limit`` rows of each of its lists."""
    sections = [s for fn in _my_day_sections if (s := fn(user, today, limit)) is not None]
    return sorted(sections, key=lambda s: s.order)


# --- events -----------------------------------------------------------------------------------
_on_settlements_created: list[Callable[[list[int]], None]] = []


def register_on_settlements_created(fn: Callable[[list[int]], None]) -> Callable:
    return _register(_on_settlements_created, fn)


def _call_settlements_created(ids: list[int]) -> None:
    for fn in list(_on_settlements_created):
        fn(ids)


def settlements_created(ids: list[int]) -> None:
    """Tell the listeners of new settlements once the current transaction commits."""
    if ids and _on_settlements_created:
        transaction.on_commit(partial(_call_settlements_created, list(ids)), robust=True)


_on_clients_changed: list[Callable[[list[int]], None]] = []


def register_on_clients_changed(fn: Callable[[list[int]], None]) -> Callable:
    return _register(_on_clients_changed, fn)


def clients_changed(ids) -> None:
    """Tell the listeners, inside the current transaction, that these clients' account manager
    or target segment may have changed."""
    ids = [i for i in ids if i is not None]
    if ids:
        for fn in list(_on_clients_changed):
            fn(ids)
