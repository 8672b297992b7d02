"""Row checkers of the import: each checks rows chunk by chunk against the database (matching
each row to the record it updates, refusing what the user may not touch); ``writers`` writes the
good ones.

Matching rules and access are described in the ``clients.imports`` package docstring.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db.models import Model
from django.utils.translation import gettext as _

from clients.imports import rules
from clients.models import Client, ContactPerson, Product, Settlement, TargetSegment
from crm.models import User


@dataclass
class RowResult:
    line: int
    cells: list[str]
    values: dict
    reasons: list[str]
    target: Model | None = None  # the existing record this row updates
    client: Client | None = None  # the client a contact/settlement row belongs to
    extra: dict = field(default_factory=dict)


# --- row checkers ---------------------------------------------------------------------------
def _visible(client: Client, user: User) -> bool:
    return user.sees_everything or client.account_manager_id == user.pk


class Checker:
    """Checks rows chunk by chunk (state across chunks catches duplicates)."""

    kind = ""

    def __init__(self, user: User, columns: list[str]):
        self.user = user
        self.columns = columns
        self.rules = rules.RULES[self.kind]()
        self.seen: dict = {}
        self.targets: dict[int, int] = {}  # pk of an existing record -> line that updates it

    def check(self, chunk: list[tuple[int, list[str]]]) -> list[RowResult]:
        results = []
        for line, cells in chunk:
            named = {c: v for c, v in zip(self.columns, cells, strict=True) if c}
            values, reasons = rules.clean_row(self.kind, named, self.rules)
            results.append(RowResult(line=line, cells=cells, values=values, reasons=reasons))
        self.load([r for r in results if not r.reasons])
        for result in results:
            if not result.reasons:
                self.match(result)
        return results

    def once(self, result: RowResult, key, label: str) -> bool:
        """False (and a reason) when another row of the file already used ``key``."""
        first = self.seen.get(key)
        if first is not None:
            result.reasons.append(
                _("%(what)s appears twice in the file (first in row %(line)s)")
                % {"what": label, "line": first}
            )
            return False
        self.seen[key] = result.line
        return True

    def claim(self, result: RowResult, target: Model) -> None:
        first = self.targets.get(target.pk)
        if first is not None:
            result.reasons.append(_("this row updates the same record as row %s") % first)
            return
        self.targets[target.pk] = result.line
        result.target = target

    def load(self, results: list[RowResult]) -> None:
        raise NotImplementedError

    def match(self, result: RowResult) -> None:
        raise NotImplementedError


def _clients_by(field_name: str, keys: set) -> dict:
    found: dict = defaultdict(list)
    if keys:
        for client in Client.objects.filter(**{f"{field_name}__in": keys}):
            found[getattr(client, field_name)].append(client)
    return found


class ClientOwnerMixin:
    """Finds the client a contact/settlement row names, among the clients the user may see."""

    def load_clients(self, results: list[RowResult]) -> None:
        self.by_ext = _clients_by(
            "external_id",
            {r.values["client_external_id"] for r in results if r.values.get("client_external_id")},
        )
        self.by_inn = _clients_by(
            "inn", {r.values["client_inn"] for r in results if r.values.get("client_inn")}
        )

    def resolve_client(self, result: RowResult) -> Client | None:
        ext = result.values.get("client_external_id")
        if ext:
            found = [c for c in self.by_ext.get(ext, []) if _visible(c, self.user)]
        else:
            found = [
                c
                for c in self.by_inn.get(result.values["client_inn"], [])
                if _visible(c, self.user)
            ]
        if not found:
            result.reasons.append(_("no such client"))
            return None
        if len(found) > 1:
            result.reasons.append(
                _("several clients have this INN; give client_external_id instead")
            )
            return None
        result.client = found[0]
        return found[0]


class ClientChecker(Checker):
    kind = "clients"

    def __init__(self, user, columns):
        super().__init__(user, columns)
        self.users = {}
        if user.sees_everything and "account_manager" in columns:
            self.users = {u.username.lower(): u for u in User.objects.filter(is_active=True)}
        self.segments = {}
        if "target_segment" in columns:
            self.segments = {s.name.lower(): s for s in TargetSegment.objects.all()}

    def load(self, results):
        self.by_ext = _clients_by(
            "external_id", {r.values["external_id"] for r in results if r.values.get("external_id")}
        )
        self.by_inn = _clients_by("inn", {r.values["inn"] for r in results if r.values.get("inn")})

    def match(self, result):
        values = result.values
        ext, inn = values.get("external_id"), values.get("inn")
        self._check_manager(result)
        segment = values.get("target_segment")
        if segment and segment.lower() not in self.segments:
            result.reasons.append(_("target_segment: no such segment «%s»") % segment)
        if ext:
            if not self.once(result, ("ext", ext), _("external_id %s") % ext):
                return
            existing = self.by_ext.get(ext)
            if existing:
                if _visible(existing[0], self.user):
                    self.claim(result, existing[0])
                else:
                    result.reasons.append(_("no such client"))
                return
        elif inn and not self.once(result, ("inn", inn), _("INN %s") % inn):
            return
        if inn:
            # an INN without an external id, or an unknown external id: adopt a client with
            # this INN that has no external id yet
            candidates = [c for c in self.by_inn.get(inn, []) if not (ext and c.external_id)]
            if candidates:
                mine = [c for c in candidates if _visible(c, self.user)]
                if not mine:
                    result.reasons.append(_("no such client"))
                elif len(mine) > 1:
                    result.reasons.append(
                        _("several clients have this INN; add an external_id to choose one")
                    )
                else:
                    self.claim(result, mine[0])

    def _check_manager(self, result):
        username = result.values.get("account_manager")
        if not username:
            return
        if not self.user.sees_everything:
            if username.lower() != self.user.username.lower():
                result.reasons.append(_("account_manager: you can import only your own clients"))
        elif username.lower() not in self.users:
            result.reasons.append(_("account_manager: no such user «%s»") % username)


class ContactChecker(ClientOwnerMixin, Checker):
    kind = "contacts"

    def load(self, results):
        self.load_clients(results)
        exts = {r.values["external_id"] for r in results if r.values.get("external_id")}
        self.contacts_by_ext = (
            {
                c.external_id: c
                for c in ContactPerson.objects.filter(external_id__in=exts).select_related("client")
            }
            if exts
            else {}
        )
        client_ids = {c.pk for cs in (*self.by_ext.values(), *self.by_inn.values()) for c in cs}
        self.contacts_by_name = {}
        for contact in ContactPerson.objects.filter(client_id__in=client_ids, external_id=None):
            self.contacts_by_name.setdefault(
                (contact.client_id, contact.full_name.lower()), contact
            )

    def match(self, result):
        client = self.resolve_client(result)
        if client is None:
            return
        values = result.values
        ext = values.get("external_id")
        if ext:
            if not self.once(result, ("ext", ext), _("external_id %s") % ext):
                return
            existing = self.contacts_by_ext.get(ext)
            if existing is not None:
                if not _visible(existing.client, self.user):
                    result.reasons.append(_("no such contact"))
                    return
                self.claim(result, existing)
        else:
            key = (client.pk, values["full_name"].lower())
            if not self.once(result, ("name", key), _("contact %s") % values["full_name"]):
                return
            existing = self.contacts_by_name.get(key)
            if existing is not None:
                self.claim(result, existing)
        if values.get("is_primary"):
            self.once(result, ("primary", client.pk), _("a primary contact of this client"))


class SettlementChecker(ClientOwnerMixin, Checker):
    kind = "settlements"

    def __init__(self, user, columns):
        super().__init__(user, columns)
        self.products_by_code = {}
        self.products_by_name = defaultdict(list)
        if "product_code" in columns or "product" in columns:
            for product in Product.objects.all():
                if product.code:
                    self.products_by_code[product.code.lower()] = product
                self.products_by_name[product.name.lower()].append(product)

    def load(self, results):
        self.load_clients(results)
        exts = {r.values["external_id"] for r in results if r.values.get("external_id")}
        self.by_own_ext = (
            {
                s.external_id: s
                for s in Settlement.objects.filter(external_id__in=exts).select_related("client")
            }
            if exts
            else {}
        )
        docs = {r.values["document_number"] for r in results if r.values.get("document_number")}
        client_ids = {c.pk for cs in (*self.by_ext.values(), *self.by_inn.values()) for c in cs}
        self.by_doc = {}
        if docs:
            for s in Settlement.objects.filter(
                client_id__in=client_ids, document_number__in=docs, external_id=None
            ):
                self.by_doc.setdefault((s.client_id, s.date, s.document_number), s)

    def match(self, result):
        client = self.resolve_client(result)
        values = result.values
        self._product(result)
        if client is None:
            return
        ext = values.get("external_id")
        if ext:
            if not self.once(result, ("ext", ext), _("external_id %s") % ext):
                return
            existing = self.by_own_ext.get(ext)
            if existing is not None:
                if not _visible(existing.client, self.user):
                    result.reasons.append(_("no such settlement"))
                    return
                self.claim(result, existing)
        elif values.get("document_number"):
            key = (client.pk, values["date"], values["document_number"])
            label = _("document %(number)s of %(date)s") % {
                "number": values["document_number"],
                "date": values["date"].isoformat(),
            }
            if not self.once(result, ("doc", key), label):
                return
            existing = self.by_doc.get(key)
            if existing is not None:
                self.claim(result, existing)

    def _product(self, result):
        code, name = result.values.get("product_code"), result.values.get("product")
        product = None
        if code:
            product = self.products_by_code.get(code.lower())
            if product is None:
                result.reasons.append(_("product_code: no such product «%s»") % code)
                return
        elif name:
            found = self.products_by_name.get(name.lower(), [])
            if not found:
                result.reasons.append(_("product: no such product «%s»") % name)
                return
            if len(found) > 1:
                result.reasons.append(
                    _("product: several products have this name; use product_code")
                )
                return
            product = found[0]
        result.extra["product"] = product


CHECKERS: dict[str, Callable[..., Checker]] = {
    "clients": ClientChecker,
    "contacts": ContactChecker,
    "settlements": SettlementChecker,
}
