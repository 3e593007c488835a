"""Django's own form messages that the credential form can show, translated again here.

The catalogues under `locale/` win over Django's and the installed apps' own (LOCALE_PATHS
come first), and those are not all written the way these pages speak: Django REST framework's
German, for one, addresses the reader informally ("Gib eine gültige URL ein."), where these
pages say "Sie". Listing the messages here puts them in our catalogues (`make messages`
extracts them); the msgids must stay exactly Django's. Nothing imports this module.
"""

from django.utils.translation import gettext_noop, ngettext_lazy

FORM_FIELD_MESSAGES = [
    gettext_noop("This field is required."),
    gettext_noop("Enter a valid value."),
    gettext_noop("Enter a valid URL."),
    gettext_noop("Enter a number."),
    gettext_noop("Enter a whole number."),
    gettext_noop("Select a valid choice. %(value)s is not one of the available choices."),
    gettext_noop("Ensure this value is less than or equal to %(limit_value)s."),
    gettext_noop("Ensure this value is greater than or equal to %(limit_value)s."),
    gettext_noop("Null characters are not allowed."),
    ngettext_lazy(
        "Ensure this value has at most %(limit_value)d character (it has %(show_value)d).",
        "Ensure this value has at most %(limit_value)d characters (it has %(show_value)d).",
        "limit_value",
    ),
]
