import re
from datetime import UTC, datetime, time, timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from api.api_keys import api_key_create
from api.scopes import ALL_SCOPES
from core.errors import ApplicationError

_RELATIVE = re.compile(r"^(\d{1,5})([dh])$")


def expiry_parse(value: str) -> datetime:
    """`--expires`: a number of days or hours from now ("90d", "12h"), or an ISO 8601 date
    ("2027-06-30", the start of that day in UTC) or date and time (UTC unless it says)."""
    value = value.strip()
    relative = _RELATIVE.match(value)
    if relative:
        amount, unit = int(relative[1]), relative[2]
        return timezone.now() + (timedelta(days=amount) if unit == "d" else timedelta(hours=amount))
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"--expires {value!r} is neither a duration (90d, 12h) nor an ISO 8601 date "
            "(2027-06-30) or date and time (2027-06-30T12:00:00Z)."
        ) from None
    if len(value) == 10:  # a date alone
        moment = datetime.combine(moment.date(), time.min)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Command(BaseCommand):
    help = (
        "Create an API key for the host app and print it. The key is stored hashed and cannot "
        "be shown again; change its scopes or expiry, or revoke it, in the admin (API keys). "
        f"Scopes: {', '.join(ALL_SCOPES)}."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="What the key is for, e.g. 'host-app production'.")
        parser.add_argument(
            "--scope",
            action="append",
            default=[],
            dest="scopes",
            metavar="SCOPE",
            help=f"What the key may do (repeat for several): {', '.join(ALL_SCOPES)}.",
        )
        parser.add_argument(
            "--all-scopes",
            action="store_true",
            help="Every scope: a key that may do everything the API offers.",
        )
        parser.add_argument(
            "--expires",
            metavar="WHEN",
            help="When the key stops working: 90d, 12h, 2027-06-30 or 2027-06-30T12:00:00Z. "
            "Default: never.",
        )

    def handle(self, *args, name, scopes, all_scopes, expires, **options):
        if all_scopes and scopes:
            raise CommandError("Give either --scope (one or more) or --all-scopes, not both.")
        if all_scopes:
            scopes = list(ALL_SCOPES)
        if not scopes:
            raise CommandError(
                "Name what the key may do: --scope SCOPE (repeatable) or --all-scopes. "
                f"Scopes: {', '.join(ALL_SCOPES)}."
            )
        expires_at = expiry_parse(expires) if expires else None
        try:
            api_key, key = api_key_create(name=name, scopes=scopes, expires_at=expires_at)
        except ApplicationError as error:
            raise CommandError(error.message) from None
        granted = api_key.grant.scopes
        until = f", until {expires_at:%Y-%m-%d %H:%M %Z}" if expires_at else ""
        self.stderr.write(
            f"Created API key {api_key.prefix!r} named {api_key.name!r} with scopes "
            f"{' '.join(granted)}{until}. Store it now: it is not shown again. Send it as "
            "'Authorization: Bearer <key>'."
        )
        self.stdout.write(key)
