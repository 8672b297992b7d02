"""Password hooks.

``RevokeTokensOnPasswordChange`` sits in ``AUTH_PASSWORD_VALIDATORS``: Django calls every
validator's ``password_changed`` after *any* save of a new password (the password page, the
admin, ``manage.py changepassword``, ``createsuperuser``, a reset, ``set_password`` + ``save``
in code), so no path can change a password and leave the old API tokens working. The pages
that change a password also audit it with who did it (``crm.services.user_password_changed``).
"""

from django.utils.translation import gettext as _

from crm.services import user_tokens_revoke


class RevokeTokensOnPasswordChange:
    def validate(self, password, user=None):
        return None  # refuses nothing

    def password_changed(self, password, user=None):
        if user is not None and user.pk is not None:
            user_tokens_revoke(user=user)

    def get_help_text(self):
        return _("Changing your password revokes your API tokens.")
