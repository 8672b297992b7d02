from functools import cached_property

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from crm.selectors import UNREAD_CAP, unread_beacon_notices

# (key, label, url name of the section's page, Bootstrap icon). A section whose app has no page
# yet links to the "coming" page instead of a 404.
NAVIGATION = [
    ("dashboard", _("Dashboard"), "dashboard", "speedometer2"),
    ("clients", _("Clients"), "clients:list", "people"),
    ("segments", _("Segments"), "segmentation:matrix", "grid-3x3"),
    ("surveys", _("Surveys"), "survey_manage:campaigns", "chat-square-heart"),
    ("complaints", _("Complaints"), "feedback:complaints", "exclamation-octagon"),
    ("pipeline", _("Pipeline"), "sales:board", "kanban"),
    ("loyalty", _("Loyalty"), "loyalty:home", "award"),
]

# sections whose pages share a prefix wider than their main page's URL
SECTION_PREFIXES = {"pipeline": "/sales/"}


def _url(key: str, name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return reverse("coming", kwargs={"section": key})


class UnreadNotices:
    """The signed-in user's unread beacon notices for the navigation's bell: counted on first
    use only (a page without the navigation — a fragment, the API — makes no query), once."""

    cap = UNREAD_CAP

    def __init__(self, user):
        self.user = user

    @cached_property
    def count(self) -> int:
        return unread_beacon_notices(self.user)

    @property
    def capped(self) -> bool:
        return self.count > self.cap

    @property
    def label(self) -> str:
        """The badge: the count, or "99+" past the cap."""
        return f"{self.cap}+" if self.capped else str(self.count)


def navigation(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    items = []
    for key, label, name, icon in NAVIGATION:
        url = _url(key, name)
        # a section is active on its own pages: its URL is a prefix of the path ("/" only
        # for the dashboard itself)
        prefix = SECTION_PREFIXES.get(key, url)
        active = request.path == url if url == "/" else request.path.startswith(prefix)
        items.append({"key": key, "label": label, "url": url, "icon": icon, "active": active})
    return {"nav_items": items, "beacon_unread": UnreadNotices(request.user)}


def section_label(key: str):
    return next((label for k, label, _n, _i in NAVIGATION if k == key), None)
