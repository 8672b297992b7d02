from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

# (key, label, url name of the section's page, Bootstrap icon). A section whose app has no page
# yet links to the "coming" page instead of a 404.
NAVIGATION = [
    ("dashboard", _("Dashboard"), "dashboard", "speedometer2"),
    ("clients", _("Clients"), "clients:list", "people"),
    ("segments", _("Segments"), "segmentation:matrix", "grid-3x3"),
    ("surveys", _("Surveys"), "feedback:surveys", "chat-square-heart"),
    ("complaints", _("Complaints"), "feedback:complaints", "exclamation-octagon"),
    ("pipeline", _("Pipeline"), "sales:board", "kanban"),
    ("loyalty", _("Loyalty"), "loyalty:home", "award"),
]


def _url(key: str, name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return reverse("coming", kwargs={"section": key})


def navigation(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    current = getattr(request, "resolver_match", None)
    namespace = current.namespace if current else ""
    section = current.kwargs.get("section") if current else None
    items = []
    for key, label, name, icon in NAVIGATION:
        active = section == key or (not section and name.split(":")[0] == (namespace or name))
        items.append(
            {"key": key, "label": label, "url": _url(key, name), "icon": icon, "active": active}
        )
    return {"nav_items": items}


def section_label(key: str):
    return next((label for k, label, _n, _i in NAVIGATION if k == key), None)
