"""Viewset pieces the apps' APIs share."""


class ServiceSave:
    """Create and update go through the app's audited service, as on the pages:
    ``save_service(actor=, data=, <instance_arg>=the instance or None, **m2m)``.
    ``m2m_fields``: taken out of the data and passed by name; a field left out (a create
    without it, a PATCH) is passed as None: "leave as is"."""

    save_service = None  # staticmethod(the service)
    instance_arg = ""
    m2m_fields: tuple[str, ...] = ()

    def _save(self, serializer, instance=None):
        data = dict(serializer.validated_data)
        m2m = {k: data.pop(k, None) for k in self.m2m_fields}
        serializer.instance = self.save_service(
            actor=self.request.user, data=data, **{self.instance_arg: instance}, **m2m
        )

    def perform_create(self, serializer):
        self._save(serializer)

    def perform_update(self, serializer):
        self._save(serializer, serializer.instance)
