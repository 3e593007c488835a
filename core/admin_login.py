"""The admin's sign-in form, bounded by core.login_limit: past ADMIN_LOGIN_MAX_FAILURES
failures for a user name from one address, it says how long to wait and checks no password."""

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from core.client_address import client_address
from core.login_limit import admin_login_failure_record, admin_login_wait_seconds


class LimitedAdminAuthenticationForm(AdminAuthenticationForm):
    def clean(self):
        username = self.cleaned_data.get("username") or ""
        address = client_address(self.request) if self.request else ""
        if username:
            wait = admin_login_wait_seconds(username=username, address=address)
            if wait:
                minutes = max(1, -(-wait // 60))
                raise ValidationError(
                    "Too many failed sign-ins for this user from this address. Try again in "
                    f"{minutes} minute{'s' if minutes != 1 else ''}.",
                    code="too_many_failures",
                )
        try:
            return super().clean()
        except ValidationError:
            if username and self.cleaned_data.get("password"):
                admin_login_failure_record(username=username, address=address)
            raise
