"""The credential form of a slot, built from the slot's field definitions.

Slots are data (an `IntegrationTemplate` lists them), so their forms are built at run time:
one plain `forms.Form` subclass per slot, one form field per slot field. The server-side
validation here mirrors what the browser is told (required, pattern, bounds, length), so that
a user with JavaScript off, or an old browser, gets the same clear messages. The tenants
service validates again against the slot before anything leaves for integrator.io.

Secret (`password`) fields are never rendered back: not their stored value (we store none),
and not what the user typed when a submit fails.
"""

import re

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext as _

from connect.form_tokens import form_token_issue, form_token_valid
from connect.template_texts import TemplateText, template_text, text_language
from core.sandbox_address import sandbox_url_fill

SECRET_KIND = "password"


class TemplateTextSelect(forms.Select):
    """A select whose options are the template's texts: an option shown in English on a page
    in another language says so (`lang`), as the pages' other template texts do (an option
    cannot hold the span that marks them elsewhere)."""

    def create_option(self, name, value, label, *args, **kwargs):
        option = super().create_option(name, value, label, *args, **kwargs)
        if text_language(label):
            option["attrs"] = {**option["attrs"], "lang": text_language(label)}
        return option


class SlotCredentialsForm(forms.Form):
    """Base of every slot's form: the hidden form token, and errors tied to their fields."""

    slot: dict = {}

    form_token = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, link_id: str, **kwargs):
        kwargs.setdefault("prefix", self.slot["key"])
        super().__init__(*args, **kwargs)
        self.link_id = link_id
        self.fields["form_token"].initial = form_token_issue(
            link_id=link_id, slot_key=self.slot["key"]
        )
        for name, field in self.credential_fields():
            if field.help_text:
                field.widget.attrs["aria-describedby"] = self._help_id(name)

    def credential_fields(self):
        return [(name, field) for name, field in self.fields.items() if name != "form_token"]

    @property
    def fields_in_error(self) -> list[forms.BoundField]:
        """The fields the error summary links to, in the form's order."""
        return [self[name] for name, _ in self.credential_fields() if name in self.errors]

    @property
    def token_is_valid(self) -> bool:
        """Checked before anything else; a missing or foreign token ends the request."""
        token = self.data.get(self.add_prefix("form_token"), "")
        return form_token_valid(token=token, link_id=self.link_id, slot_key=self.slot["key"])

    @property
    def secret_values(self) -> list[str]:
        """What the user typed into secret fields, to keep it out of anything we render."""
        names = [
            n for n, f in self.credential_fields() if isinstance(f.widget, forms.PasswordInput)
        ]
        return [str(self.data.get(self.add_prefix(n), "")) for n in names]

    @property
    def values(self) -> dict:
        """The typed credential values, without the form's own token."""
        return {
            name: value
            for name, value in self.cleaned_data.items()
            if name != "form_token" and value not in (None, "")
        }

    def show_addresses_as_tried(self) -> None:
        """Re-show each address typed without a scheme as it was tried (`https://` added,
        `assume_scheme`), so a failed check names the address it failed on; the user's
        `127.0.0.1:9620/shop` would hide that https was assumed. Only after a valid clean."""
        data = None
        for name, field in self.credential_fields():
            if not isinstance(field, forms.URLField) or not self.cleaned_data.get(name):
                continue
            key = self.add_prefix(name)
            if "://" not in self.data.get(key, ""):
                data = data if data is not None else self.data.copy()
                data[key] = self.cleaned_data[name]
        if data is not None:
            self.data = data

    def full_clean(self):
        super().full_clean()
        self._mark_invalid_fields()

    def add_error(self, field, error):
        super().add_error(field, error)
        self._mark_invalid_fields()

    def _mark_invalid_fields(self):
        # Screen readers announce the error with the field because the input points at it.
        for name, field in self.credential_fields():
            if name in self.errors:
                ids = [self._error_id(name)]
                if field.help_text:
                    ids.append(self._help_id(name))
                field.widget.attrs["aria-invalid"] = "true"
                field.widget.attrs["aria-describedby"] = " ".join(ids)

    def _help_id(self, name: str) -> str:
        return f"{self[name].auto_id}-help"

    def _error_id(self, name: str) -> str:
        return f"{self[name].auto_id}-error"


def slot_form_class(slot: dict, translations: dict | None = None) -> type[SlotCredentialsForm]:
    """A form class for one slot (e.g. `ShopCredentialsForm` for the slot `shop`), its
    labels, help and options in the page's language where the template's `translations` have
    them."""
    attrs: dict = {"slot": slot}
    for definition in slot.get("fields", []):
        attrs[definition["name"]] = _form_field(definition, translations)
    name = "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", slot["key"]))
    return type(f"{name}CredentialsForm", (SlotCredentialsForm,), attrs)


def _form_field(definition: dict, translations: dict | None) -> forms.Field:
    kind = definition.get("kind", "text")
    label = definition.get("label") or definition["name"].replace("_", " ").capitalize()
    common = {
        "label": template_text(translations, label),
        "help_text": _filled(template_text(translations, definition.get("help_text", ""))),
        "required": bool(definition.get("required", True)),
    }
    # Values that look like keys and hosts: no auto-capitalisation or spell checking.
    plain = {"autocapitalize": "off", "spellcheck": "false", "autocorrect": "off"}
    max_length = definition.get("max_length")

    if kind == SECRET_KIND:
        field = forms.CharField(
            max_length=max_length,
            # A secret is sent as typed: spaces may be part of it.
            strip=False,
            # render_value=False is the default; spelled out because it is the point.
            widget=forms.PasswordInput(
                render_value=False, attrs={**plain, "autocomplete": "new-password"}
            ),
            **common,
        )
    elif kind == "url":
        field = forms.URLField(
            max_length=max_length,
            assume_scheme="https",
            widget=forms.URLInput(attrs={**plain, "autocomplete": "url", "inputmode": "url"}),
            **common,
        )
    elif kind == "select":
        choices = [
            (value, template_text(translations, text))
            for value, text in _choices(definition.get("choices") or [])
        ]
        if not common["required"]:
            choices = [("", "—"), *choices]
        field = forms.ChoiceField(choices=choices, widget=TemplateTextSelect, **common)
    elif kind == "number":
        bounds = [definition[b] for b in ("min", "max") if b in definition]
        whole = all(float(b).is_integer() for b in bounds)
        number_class = forms.IntegerField if whole else forms.FloatField
        field = number_class(
            min_value=definition.get("min"),
            max_value=definition.get("max"),
            widget=forms.NumberInput(attrs={"inputmode": "numeric" if whole else "decimal"}),
            **common,
        )
    else:
        field = forms.CharField(
            max_length=max_length,
            widget=forms.TextInput(attrs={**plain, "autocomplete": "off"}),
            **common,
        )

    if definition.get("placeholder") and kind != "select":
        field.widget.attrs["placeholder"] = _filled(
            template_text(translations, definition["placeholder"])
        )
    pattern = definition.get("pattern")
    if pattern and kind not in ("select", "number"):
        # The label is the template's own text; it is named, not lower-cased into the sentence,
        # since not every language lower-cases nouns. (Forms are built per request, in the
        # page's language.)
        message = _("Enter a valid value for “%(label)s”.") % {"label": common["label"]}
        field.validators.append(RegexValidator(f"^(?:{pattern})$", message=message))
        field.widget.attrs["pattern"] = pattern
        field.widget.attrs["title"] = message
    return field


def _filled(text: str) -> str:
    filled = sandbox_url_fill(text)
    if filled is text:
        return text
    return text.with_text(filled) if isinstance(text, TemplateText) else filled


def _choices(raw: list) -> list[tuple[str, str]]:
    choices = []
    for item in raw:
        if isinstance(item, dict):
            value = str(item.get("value", ""))
            choices.append((value, str(item.get("label", value))))
        elif isinstance(item, list | tuple) and len(item) == 2:
            choices.append((str(item[0]), str(item[1])))
        else:
            choices.append((str(item), str(item)))
    return choices
