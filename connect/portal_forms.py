"""The portal's settings form, built from the template version's settings JSON Schema: one
field per customer-editable setting (`tenants.services.portal_access`).

The schema says the type, bounds, enum, default and description; the form says them to the
browser (input types, min/max, a select, checkboxes) and checks them itself with messages in
plain words, so that a person with JavaScript off gets the same messages. The settings service
validates again against the whole schema when the change is saved.
"""

from __future__ import annotations

import json

from django import forms
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import RegexValidator
from django.utils.formats import number_format
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from connect.form_tokens import form_token_issue, form_token_valid
from connect.forms import TemplateTextSelect
from connect.template_texts import template_text
from tenants.services.portal_access import EditableSetting
from tenants.settings_messages import pattern_example

FIELD_PREFIX = "setting-"
SETTINGS_FORM = "portal:settings"
FLOWS_FORM = "portal:flows"
RUN_ERRORS_FORM = "portal:run-errors"
CONNECTIONS_CHECK_FORM = "portal:connections-check"


def choice_label(value: object) -> str:
    """`sales_order` as "Sales order": enum values are identifiers, not words."""
    text = str(value).replace("_", " ").replace("-", " ").strip()
    return text[:1].upper() + text[1:]


def interval_label(minutes: int) -> str:
    """How often a flow runs, in words: "Every 15 minutes", "Every 2 hours", "Once a day"."""
    if minutes == 1440:
        return gettext("Once a day")
    if minutes == 60:
        return gettext("Every hour")
    # Every form carries the number: in some languages the "singular" form serves 21 or 31.
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("Every %(count)d hour", "Every %(count)d hours", hours) % {"count": hours}
    return ngettext("Every %(count)d minute", "Every %(count)d minutes", minutes) % {
        "count": minutes
    }


class PortalSettingsForm(forms.Form):
    form_token = forms.CharField(widget=forms.HiddenInput)
    # What each setting showed when the page was rendered ({name: value}, JSON): the post
    # sends every field, and only this tells the fields the person changed from those they
    # left as shown (connect.portal_services.portal_settings_save). A form that comes back
    # with its messages keeps what the page first showed.
    shown = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(
        self,
        *args,
        link_id: str,
        settings: list[EditableSetting],
        translations: dict | None = None,
        shown: dict | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.link_id = link_id
        self.settings = settings
        self.fields["form_token"].initial = form_token_issue(
            link_id=link_id, slot_key=SETTINGS_FORM
        )
        self.fields["shown"].initial = json.dumps(shown or {}, cls=DjangoJSONEncoder)
        for setting in settings:
            field = _field_for(setting, translations)
            name = FIELD_PREFIX + setting.name
            described = [f"id_{name}-help"] if field.help_text else []
            if described:
                field.widget.attrs["aria-describedby"] = " ".join(described)
            self.fields[name] = field

    @property
    def token_is_valid(self) -> bool:
        token = self.data.get("form_token", "")
        return form_token_valid(token=token, link_id=self.link_id, slot_key=SETTINGS_FORM)

    @property
    def setting_fields(self) -> list[forms.BoundField]:
        return [self[FIELD_PREFIX + s.name] for s in self.settings]

    @property
    def fields_in_error(self) -> list[forms.BoundField]:
        return [field for field in self.setting_fields if field.errors]

    @property
    def values(self) -> dict:
        """{setting name: value} as typed, plus any other setting the post names (the
        service refuses those: the page never offers them)."""
        values = {
            name.removeprefix(FIELD_PREFIX): value
            for name, value in self.cleaned_data.items()
            if name.startswith(FIELD_PREFIX)
        }
        for name in self.data:
            key = name.removeprefix(FIELD_PREFIX)
            if name.startswith(FIELD_PREFIX) and key not in values:
                values[key] = self.data.get(name)
        return values

    @property
    def posted_shown(self) -> dict | None:
        """What the page showed of each setting, as posted; None when the post does not
        say (a page rendered before the form carried it, or an unreadable value)."""
        try:
            shown = json.loads(self.data.get("shown") or "null")
        except ValueError:
            return None
        return shown if isinstance(shown, dict) and shown else None

    def show_current(self, current: dict, names: list[str]) -> None:
        """After a refusal because the settings `names` were changed since the page showed
        them: those fields show their current values instead of the person's (the rest keep
        what they typed), and the form now says it showed `current`, so that saving it again
        is a change made knowing them."""
        data = self.data.copy()
        for name in names:
            key = FIELD_PREFIX + name
            field = self.fields.get(key)
            value = current.get(name)
            if isinstance(field, forms.MultipleChoiceField):
                values = [str(each) for each in value or []]
                if hasattr(data, "setlist"):
                    data.setlist(key, values)
                else:
                    data[key] = values
            elif isinstance(field, forms.BooleanField):
                if value:
                    data[key] = "on"
                else:
                    data.pop(key, None)
            elif value is None:
                data.pop(key, None)
            else:
                data[key] = str(value)
        data["shown"] = json.dumps(current, cls=DjangoJSONEncoder)
        self.data = data

    def place_errors(self, fields: dict[str, list[str]]) -> bool:
        """Put the service's `settings.<name>` messages on their fields; whether any was."""
        placed = False
        for path, messages in fields.items():
            name = FIELD_PREFIX + path.removeprefix("settings.").split(".")[0]
            if name in self.fields:
                for message in messages:
                    self.add_error(name, message)
                placed = True
        return placed

    def full_clean(self):
        super().full_clean()
        self._show_saved_for_refused_choices()
        for name in self.errors:
            self._mark_invalid(name)

    def add_error(self, field, error):
        super().add_error(field, error)
        # An error added after the form was cleaned (the service's, a change made since) is
        # read out with its field too.
        if field is not None and hasattr(self, "cleaned_data"):
            self._mark_invalid(field)

    def _mark_invalid(self, name: str) -> None:
        if name not in self.fields:
            return
        widget = self.fields[name].widget
        if widget.attrs.get("aria-invalid") == "true":
            return
        widget.attrs["aria-invalid"] = "true"
        described = widget.attrs.get("aria-describedby", "")
        widget.attrs["aria-describedby"] = f"{described} id_{name}-error".strip()

    def _show_saved_for_refused_choices(self) -> None:
        """A select or a group of checkboxes whose posted value is not one of its options
        shows the saved value (the form's `initial`) again, with its message: a select cannot
        show a value it does not offer (the browser would show its first option, and saving
        again would save that), and a group would silently drop what it does not offer."""
        if not self.is_bound or not self._errors:
            return
        data = None
        for name in self._errors:
            field = self.fields.get(name)
            if not isinstance(field, forms.ChoiceField) or not name.startswith(FIELD_PREFIX):
                continue
            posted = field.widget.value_from_datadict(self.data, self.files, self.add_prefix(name))
            multiple = isinstance(field, forms.MultipleChoiceField)
            if multiple:
                # Nothing ticked is what the person chose; the message says to choose one.
                offered = all(field.valid_value(value) for value in posted or [])
            else:
                offered = posted not in (None, "") and field.valid_value(posted)
            if offered:
                continue
            saved = self.get_initial_for_field(field, name)
            if data is None:
                data = self.data.copy()
            key = self.add_prefix(name)
            if multiple:
                values = [str(value) for value in saved or []]
                if hasattr(data, "setlist"):
                    data.setlist(key, values)
                else:
                    data[key] = values
            elif saved is None:
                data.pop(key, None)
            else:
                data[key] = str(saved)
        if data is not None:
            self.data = data


def _field_for(setting: EditableSetting, translations: dict | None) -> forms.Field:
    """The setting's field, its title, description and option labels in the page's language
    where the template's `translations` have them."""
    schema = setting.schema
    label = template_text(translations, schema.get("title") or choice_label(setting.name))
    help_text = template_text(translations, schema.get("description") or "")

    def option(value: object) -> tuple:
        return (value, template_text(translations, choice_label(value)))

    kind = setting.kind
    if kind == "interval":
        return forms.TypedChoiceField(
            label=label,
            help_text=help_text,
            coerce=int,
            choices=[(minutes, interval_label(minutes)) for minutes in setting.intervals],
            error_messages={
                "required": _("Choose one of the options."),
                "invalid_choice": _("Choose one of the options."),
            },
        )
    if kind == "boolean":
        return forms.BooleanField(
            label=label, help_text=help_text, required=False, widget=forms.CheckboxInput
        )
    if kind == "enum":
        return forms.ChoiceField(
            label=label,
            help_text=help_text,
            choices=[option(value) for value in schema["enum"]],
            widget=TemplateTextSelect,
            error_messages={
                "required": _("Choose one of the options."),
                "invalid_choice": _("Choose one of the options."),
            },
        )
    if kind == "multi_enum":
        choices = schema["items"]["enum"]
        at_least = int(schema.get("minItems") or 0)
        return forms.MultipleChoiceField(
            label=label,
            help_text=help_text,
            required=at_least > 0,
            choices=[option(value) for value in choices],
            widget=forms.CheckboxSelectMultiple,
            error_messages={
                "required": _("Choose at least one."),
                "invalid_choice": _("Choose from the options shown."),
            },
        )
    if kind in ("integer", "number"):
        low, high = schema.get("minimum"), schema.get("maximum")
        field_class = forms.IntegerField if kind == "integer" else forms.FloatField
        between = _bounds_message(low, high, whole=kind == "integer")
        field = field_class(
            label=label,
            help_text=help_text,
            min_value=low,
            max_value=high,
            error_messages={
                "required": _("Enter a number."),
                "invalid": _("Enter a whole number.")
                if kind == "integer"
                else _("Enter a number."),
                "min_value": between,
                "max_value": between,
            },
        )
        field.widget.attrs["inputmode"] = "numeric" if kind == "integer" else "decimal"
        return field
    validators = []
    if schema.get("pattern"):
        validators.append(RegexValidator(schema["pattern"], message=_pattern_message(schema)))
    return forms.CharField(
        label=label,
        help_text=help_text,
        max_length=schema.get("maxLength"),
        min_length=schema.get("minLength"),
        validators=validators,
        error_messages={"required": _("Enter a value.")},
    )


def _pattern_message(schema: dict) -> str:
    """What a value that misses the pattern should look like: a pattern means nothing to a
    customer, an example does (tenants.settings_messages.pattern_example)."""
    example = pattern_example(schema)
    if example is not None:
        return _("This is not in the expected form, for example “%(example)s”.") % {
            "example": example
        }
    return _("This is not in the expected form.")


def _bounds_message(low, high, *, whole: bool) -> str:
    # Each bound as the page's language writes numbers ("0,5" in German); the form is built per
    # request, in that language.
    low, high = _number(low), _number(high)
    if low is not None and high is not None:
        return _("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high}
    if low is not None:
        return _("Enter a number of at least %(low)s.") % {"low": low}
    return _("Enter a number of at most %(high)s.") % {"high": high}


def _number(value) -> str | None:
    return None if value is None else number_format(value)
