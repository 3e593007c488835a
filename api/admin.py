"""API keys in the admin: their scopes as checkboxes, their expiry and when they were last used.
Replaces djangorestframework-api-key's own page, which knows nothing of scopes; writes go
through api.api_keys, and a new key is shown once, as `manage.py create_api_key` prints it."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import quote
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from rest_framework_api_key.models import APIKey

from api.api_keys import api_key_create, api_key_revoke, api_key_update
from api.models import ApiKeyGrant
from api.scopes import ALL_SCOPES, Scope
from audit.admin import audit_target_links_register
from core.admin_display import (
    GREY,
    admin_action_log,
    badge,
    confirmed_objects,
    counted,
    objects_named,
    secret_once_response,
)


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        choices=[(scope.value, f"{scope.value}: {scope.label}") for scope in Scope],
        widget=forms.CheckboxSelectMultiple,
        required=True,
        help_text="What the key may do: a request outside them answers 403 insufficient_scope. "
        "Changes hold from the key's next request.",
    )

    class Meta:
        model = APIKey
        fields = ("name", "scopes", "expiry_date", "revoked")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            grant = ApiKeyGrant.objects.filter(api_key=self.instance).first()
            self.fields["scopes"].initial = grant.scopes if grant else []
        else:
            self.fields.pop("revoked", None)

    def clean_expiry_date(self):
        expires = self.cleaned_data.get("expiry_date")
        if expires is not None and not self.instance.pk and expires <= timezone.now():
            raise forms.ValidationError("A new key's expiry must be in the future.")
        return expires


def _api_key_targets(prefixes: list[str]) -> dict[str, tuple[str, str]]:
    """The audit log's events about API keys (their target is the key's prefix) name the key
    and link to its page; the link's id is the key's hashed id, never its secret."""
    return {
        key.prefix: (
            key.name,
            reverse("admin:rest_framework_api_key_apikey_change", args=[quote(key.pk)]),
        )
        for key in APIKey.objects.filter(prefix__in=prefixes).only("id", "prefix", "name")
    }


audit_target_links_register("api_key", _api_key_targets)

# The library registers its own page for the same model.
if admin.site.is_registered(APIKey):
    admin.site.unregister(APIKey)


@admin.register(APIKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = (
        "prefix",
        "name",
        "scope_list",
        "created",
        "expiry_date",
        "_has_expired",
        "revoked",
        "last_used",
    )
    list_filter = ("revoked", "created")
    search_fields = ("name", "prefix")
    list_select_related = ("grant",)
    actions = ["revoke_keys"]

    @admin.action(description="Revoke the selected API keys…", permissions=["change"])
    def revoke_keys(self, request, queryset):
        """Asks first, naming the keys, as deprovisioning does: a revocation cannot be undone.
        Each key is revoked through api.api_keys (recorded once); one already revoked is left
        as it is, and said to be, before the question: asked about too, it was then counted
        among the keys "already revoked" of a revocation it was no part of."""
        keys = list(confirmed_objects(request, queryset).order_by("name"))
        revoked_already = [key for key in keys if key.revoked]
        if revoked_already:
            verb = "is" if len(revoked_already) == 1 else "are"
            self.message_user(
                request,
                "Not revoked again: "
                + objects_named(revoked_already, "API key", lambda k: f"{k.prefix} ({k.name})")
                + f" {verb} revoked already.",
                messages.INFO,
            )
            keys = [key for key in keys if not key.revoked]
            if not keys:
                return None
        if request.POST.get("post") != "yes":
            return TemplateResponse(
                request,
                "admin/rest_framework_api_key/apikey/revoke_confirmation.html",
                {
                    **self.admin_site.each_context(request),
                    "title": f"Revoke {counted(keys, 'API key')}?",
                    "action": "revoke_keys",
                    "action_label": "Revoke",
                    "confirm": f"Yes, revoke {'it' if len(keys) == 1 else 'them'}",
                    "objects": keys,
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                    "opts": self.model._meta,
                },
            )
        revoked = [key for key in keys if api_key_revoke(api_key=key)]
        for key in revoked:
            admin_action_log(self, request, key)
        already = len(keys) - len(revoked)
        self.message_user(
            request,
            f"Revoked {counted(revoked, 'API key')}"
            + (f" ({already} already {'was' if already == 1 else 'were'})" if already else "")
            + f". Requests with {'it' if len(revoked) == 1 else 'them'} now answer 401.",
            messages.SUCCESS,
        )
        return None

    def has_change_permission(self, request, obj=None):
        # Revoked for good: nothing more to change. Its scopes stayed checkboxes with Save,
        # which granted scopes to a key no request can use. (Revoking is the list's action,
        # which asks for this permission without a key.)
        if obj is not None and obj.revoked:
            return False
        return super().has_change_permission(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ("prefix",)
        return ("prefix", "created", "last_used")

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("name", "scopes", "expiry_date")
        # The checkboxes are for whoever may change them; read only, the form's field would
        # show "None": the scopes as the list shows them instead.
        scopes = "scopes" if self.has_change_permission(request, obj) else "scope_list"
        return ("prefix", "name", scopes, "expiry_date", "revoked", "created", "last_used")

    @admin.display(description="Scopes")
    def scope_list(self, api_key):
        grant = getattr(api_key, "grant", None)
        if grant is None or not grant.scopes:
            return badge("none", GREY)
        if set(grant.scopes) >= set(ALL_SCOPES):
            return "all"
        return ", ".join(grant.scopes)

    @admin.display(description="Last used", ordering="grant__last_used_at")
    def last_used(self, api_key):
        grant = getattr(api_key, "grant", None)
        if grant is None or grant.last_used_at is None:
            return "never"
        # Written at most once a minute (api.authentication).
        return f"{timezone.localtime(grant.last_used_at):%Y-%m-%d %H:%M} (to the minute)"

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            api_key_update(
                api_key=obj,
                name=data.get("name", obj.name),
                expires_at=data.get("expiry_date", obj.expiry_date),
                revoked=data.get("revoked", obj.revoked),
                scopes=data["scopes"],
            )
            return
        created, key = api_key_create(
            name=data["name"], scopes=data["scopes"], expires_at=data.get("expiry_date")
        )
        for name in ("id", "prefix", "hashed_key", "created"):
            setattr(obj, name, getattr(created, name))
        obj._state.adding = False
        obj._state.db = created._state.db
        request._api_key_shown_once = (created.name, key)  # for response_add, next

    def response_add(self, request, obj, post_url_continue=None):
        made = getattr(request, "_api_key_shown_once", None)
        if made is None:
            return super().response_add(request, obj, post_url_continue)
        name, key = made
        return secret_once_response(
            self,
            request,
            title=f"API key for {name}",
            secrets=[(f"The API key for {name} is", key)],
            advice="store it now: it is not shown again; send it as 'Authorization: Bearer <key>'",
        )
