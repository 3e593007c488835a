"""The deployment's identity, read-only (written once, by a migration), and the
integrator.io accounts, whose API token is write-only."""

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse

from core.account_token_checks import account_token_check
from core.accounts import (
    IntegratorAccountInvalid,
    account_token_source,
    integrator_account_check,
    integrator_account_deletable,
    integrator_account_save,
    integrator_account_usage,
)
from core.admin_lookups import MaskedFieldLookups
from core.integrator_client import rate_limit_redis
from core.integrator_outage import integrator_account_delete
from core.models import Deployment, IntegratorAccount


@admin.register(Deployment)
class DeploymentAdmin(admin.ModelAdmin):
    list_display = ("identity", "created_at", "rekeyed_from")
    readonly_fields = ("identity", "created_at", "rekeyed_from")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class IntegratorAccountForm(forms.ModelForm):
    # The check of every URL the service calls, in its words (core.http_urls, through
    # core.accounts): Django's URLField took a user name and password, kept and shown in clear,
    # IPv6 literals and a URL without a scheme (made https), and refused one-label hosts.
    api_url = forms.CharField(
        required=False,
        max_length=300,
        # As wide as the admin's URL fields; not type="url", whose browser check is another.
        widget=forms.TextInput(attrs={"class": "vURLField"}),
        label="API URL override",
        help_text="Empty: the region's (INTEGRATOR_US_API_URL / INTEGRATOR_EU_API_URL); the "
        "default account: INTEGRATOR_API_URL.",
    )
    token = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only: stored encrypted, never shown. Leave empty to keep the current "
        "one (the default account without one uses INTEGRATOR_API_TOKEN).",
    )

    class Meta:
        model = IntegratorAccount
        fields = ("key", "name", "region", "api_url", "rate_limit_per_second", "rate_limit_burst")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk is None:  # nothing to keep yet
            token = self.fields["token"]
            token.help_text = (
                "Required for a new account. Write-only: stored encrypted, never shown."
            )

    def clean(self):
        cleaned = super().clean()
        creating = self.instance.pk is None
        if creating and not cleaned.get("token"):
            self.add_error("token", "A new account needs its API token.")
        if self.errors:
            return cleaned
        try:
            integrator_account_check(
                account=None if creating else self.instance,
                key=cleaned["key"] if creating else self.instance.key,
                name=cleaned["name"],
                region=cleaned["region"],
                api_url=cleaned.get("api_url") or "",
                rate_limit_per_second=cleaned.get("rate_limit_per_second"),
                rate_limit_burst=cleaned.get("rate_limit_burst"),
                token=cleaned.get("token") or None,
            )
        except IntegratorAccountInvalid as error:
            for field, messages in error.fields.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
        return cleaned


@admin.register(IntegratorAccount)
class IntegratorAccountAdmin(MaskedFieldLookups, admin.ModelAdmin):
    """The token is write-only: the form never renders it (not even masked), the list says
    only whether one is set, and saving goes through core.accounts, which encrypts it."""

    masked_fields = ("token_encrypted",)

    form = IntegratorAccountForm
    list_display = (
        "key",
        "name",
        "region",
        "is_default",
        "token_state",
        "token_checked",
        "updated_at",
    )
    list_filter = ("region",)
    search_fields = ("key", "name")

    @admin.display(description="API token")
    def token_state(self, account: IntegratorAccount) -> str:
        return account_token_source(account)

    @admin.display(description="In use by")
    def in_use(self, account: IntegratorAccount) -> str:
        return integrator_account_usage(account)

    @admin.display(description="Token at integrator.io")
    def token_checked(self, account: IntegratorAccount) -> str:
        # What /readyz (or a call answered 401) last learnt: the page makes no call itself.
        return account_token_check(rate_limit_redis(), account_key=account.key).label

    def get_fields(self, request, obj=None):
        # The write-only field is for whoever may type a new token: read only, it would show
        # "None" above "set" (the `token_state` line says whether one is set).
        fields = super().get_fields(request, obj)
        if obj is not None and not self.has_change_permission(request, obj):
            fields = [name for name in fields if name != "token"]
        return fields

    def get_readonly_fields(self, request, obj=None):
        # The key names the row in Redis keys and the token's context: fixed once made.
        if obj is None:
            return ("token_state",)
        return ("key", "is_default", "token_state", "token_checked", "in_use")

    def has_delete_permission(self, request, obj=None):
        # Templates and tenants stay on their account (PROTECT); the default always exists.
        # Without this, an account in use offered Delete, whose page said that the person
        # lacked the permission to delete its tenants (which nobody may delete here).
        return (
            obj is not None
            and integrator_account_deletable(obj)
            and super().has_delete_permission(request)
        )

    def delete_view(self, request, object_id, extra_context=None):
        # The change page offers no Delete for an account in use; its delete address, typed or
        # bookmarked, answered a bare "403 Forbidden". It says why instead, on the change page.
        account = self.get_object(request, object_id)
        if (
            account is not None
            and self.has_view_or_change_permission(request, account)
            and not integrator_account_deletable(account)
        ):
            messages.error(
                request,
                f"integrator.io account {account.key!r} was not deleted: "
                f"{integrator_account_usage(account)}",
            )
            return HttpResponseRedirect(
                reverse("admin:core_integratoraccount_change", args=[account.pk])
            )
        return super().delete_view(request, object_id, extra_context)

    def delete_model(self, request, obj):
        # An outage open on the account ends with it (integrator.recovered, its breaker cleared).
        integrator_account_delete(rate_limit_redis(), account=obj)

    def delete_queryset(self, request, queryset):
        for account in queryset:
            integrator_account_delete(rate_limit_redis(), account=account)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        saved = integrator_account_save(
            key=obj.key,
            name=data["name"],
            region=data["region"],
            api_url=data.get("api_url") or "",
            token=data.get("token") or None,
            rate_limit_per_second=data.get("rate_limit_per_second"),
            rate_limit_burst=data.get("rate_limit_burst"),
        )
        obj.pk = saved.pk
