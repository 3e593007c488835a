"""Admin of the host's OAuth clients: the secret is write-only. The form never renders it
(not even masked), the list says only whether one is set, and saving goes through
tenants.oauth_clients, which encrypts it."""

from django import forms
from django.contrib import admin

from audit.admin_changes import AuditedModelAdmin
from core.admin_lookups import MaskedFieldLookups
from tenants.models import OAuthClientRecord
from tenants.oauth_clients import oauth_client_record_save


class OAuthClientRecordForm(forms.ModelForm):
    client_secret = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Write-only: stored encrypted, never shown. Leave empty to keep the current one.",
    )

    token_url = forms.URLField(
        max_length=2000,
        assume_scheme="https",
        label="Token URL",
        help_text=(
            "The app's token endpoint: the only place the secret is sent (templates' OAuth "
            "slots must name the same URL). Changing it needs the secret typed again."
        ),
    )

    class Meta:
        model = OAuthClientRecord
        fields = ("provider_key", "client_id", "token_url")

    def clean_client_secret(self):
        # Only a record with a secret is used (tenants.services.oauth_slots.oauth_client): one
        # saved without would leave the deployment on OAUTH_CLIENTS' client, or on none.
        secret = self.cleaned_data.get("client_secret") or ""
        if not secret and not self.instance.client_secret_encrypted:
            raise forms.ValidationError(
                "Enter the client secret the app issued with this client id: a client without "
                "one is not used."
            )
        return secret

    def clean(self):
        cleaned = super().clean()
        # Where the secret goes is decided by someone who holds it (tenants.oauth_clients).
        moved = "token_url" in self.changed_data and self.instance.client_secret_encrypted
        if moved and not cleaned.get("client_secret"):
            self.add_error(
                "client_secret",
                "Type the client secret again to change the token URL: it is where the secret "
                "is sent.",
            )
        return cleaned


@admin.register(OAuthClientRecord)
class OAuthClientRecordAdmin(MaskedFieldLookups, AuditedModelAdmin):
    audit_saves = False  # its service records the change; deletions are recorded here
    masked_fields = ("client_secret_encrypted",)
    form = OAuthClientRecordForm
    list_display = ("provider_key", "client_id", "token_url", "secret", "updated_at")
    search_fields = ("provider_key", "client_id")

    # Not "client secret": on the change page it sat under the write-only field of that name,
    # two rows of one label, one empty and one saying "set".
    @admin.display(description="current client secret")
    def secret(self, record: OAuthClientRecord) -> str:
        return "set" if record.client_secret_encrypted else "not set"

    def get_fields(self, request, obj=None):
        # The write-only field is for whoever may type a new secret: read only, it would show
        # "None" above "set" (the `secret` line says whether one is set).
        fields = super().get_fields(request, obj)
        if obj is not None and not self.has_change_permission(request, obj):
            fields = [name for name in fields if name != "client_secret"]
        return fields

    def get_readonly_fields(self, request, obj=None):
        # The key names the row in the secret's encryption context: fixed once made.
        return ("provider_key", "secret") if obj else ("secret",)

    def save_model(self, request, obj, form, change):
        saved = oauth_client_record_save(
            provider_key=obj.provider_key,
            client_id=form.cleaned_data["client_id"],
            client_secret=form.cleaned_data.get("client_secret") or None,
            token_url=form.cleaned_data["token_url"],
        )
        obj.pk = saved.pk
