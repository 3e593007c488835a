from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandError

from core.accounts import account_token_fix, integrator_account_default, integrator_account_get
from core.errors import ApplicationError
from core.integrator_client import build_integrator_client
from core.models import IntegratorAccount
from integrator import errors as remote
from tenants.models import IntegrationTemplate, TemplateVersion
from tenants.services import (
    template_account_check,
    template_document_read,
    template_document_validate,
    template_load,
    template_snapshot_take,
    template_version_current,
    template_version_order_check,
)
from tenants.services.template_snapshots import snapshot_counts

OFFLINE_WARNING = (
    "Published without a snapshot (--offline): new tenants can be built to this version, "
    "but it cannot be rolled out to existing tenants. Publish a new version online for that."
)


class Command(BaseCommand):
    help = (
        "Publish a version of an integration template from a JSON or YAML file. Slots, the "
        "settings schema and the mapping are validated, and the template integration is read "
        "from integrator.io (its snapshot is kept with the version); nothing is saved when "
        "anything is wrong."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--offline",
            action="store_true",
            help="Do not read the template integration: the version has no snapshot and "
            "cannot be rolled out to existing tenants.",
        )
        parser.add_argument(
            "--account",
            help="The key of the integrator.io account the template integration lives in "
            "(default: the template's account, or the default account for a new template).",
        )

    def handle(self, *args, file: Path, offline: bool, account: str | None = None, **options):
        chosen = None
        if account is not None:
            try:
                chosen = integrator_account_get(key=account)
            except IntegratorAccount.DoesNotExist:
                raise CommandError(
                    f"No integrator.io account {account!r} (admin: integrator.io accounts)."
                ) from None
        try:
            document = template_document_read(path=file)
        except OSError as error:
            raise CommandError(f"Cannot read {file}: {error.strerror}") from None
        except (ValueError, yaml.YAMLError) as error:
            raise CommandError(f"{file} is not valid JSON/YAML: {error}") from None
        try:
            # What is wrong with the file is said before integrator.io is asked anything.
            template_document_validate(document=document)
            # A published version keeps its snapshot: reading integrator.io again is wasted.
            published = _published(document)
            if not published:
                # A version it would refuse to publish is refused before integrator.io is read.
                template_version_order_check(
                    template_key=document["key"], version=str(document.get("version", "1"))
                )
            # Nor is the account read when the template lives on another one.
            template_account_check(template_key=document["key"], account=chosen)
            where = chosen or _account_of(document)
            snapshot = None if offline or published else _snapshot(document, where)
            template, _ = template_load(document=document, snapshot=snapshot, account=chosen)
        except ApplicationError as error:
            problems = [f"  {path}: {m}" for path, ms in error.fields.items() for m in ms]
            raise CommandError("\n".join([error.message, *problems])) from None
        version = str(document.get("version", "1"))
        if published:
            newest = template_version_current(template=template).version
            if newest != version:
                self.stdout.write(
                    f"Version {version} of {template.key!r} is already published with this "
                    f"content, and is not its newest ({newest}): nothing changed. The "
                    "template's name, description, translations and is_active come from the "
                    f"newest version's file; load {newest}'s to change them."
                )
                return
            self.stdout.write(
                f"Version {version} of {template.key!r} is already published with this "
                "content; updated the template's name, description, translations and is_active."
            )
            return
        if snapshot is None:
            self.stderr.write(self.style.WARNING(OFFLINE_WARNING))
            self.stdout.write(f"Published version {version} of {template.key!r} (no snapshot).")
            return
        counts = snapshot_counts(snapshot)
        self.stdout.write(
            f"Published version {version} of {template.key!r} (snapshot of {counts['flows']} "
            f"flows, {counts['exports']} exports, {counts['imports']} imports)."
        )


def _published(document: dict) -> bool:
    return TemplateVersion.objects.filter(
        template__key=document.get("key"), version=str(document.get("version", "1"))
    ).exists()


def _account_of(document: dict) -> IntegratorAccount:
    """The account a template already lives on, or the default one for a new template."""
    template = IntegrationTemplate.objects.filter(key=document.get("key")).first()
    return template.account if template is not None else integrator_account_default()


def _snapshot(document: dict, account: IntegratorAccount) -> dict:
    source = document["source_integration_id"]
    try:
        with build_integrator_client(account=account) as client:
            return template_snapshot_take(client=client, source_integration_id=source)
    except remote.NotFoundError:
        raise CommandError(
            f"The template integration {source} is not in the integrator.io account "
            f"{account.key!r} (source_integration_id). Nothing was published."
        ) from None
    except remote.AuthenticationError as error:
        # Our own token was refused: running again will not help until it is replaced.
        raise CommandError(
            f"integrator.io refused the API token of account {account.key!r} while reading the "
            f"template integration {source} ({error.status}). Nothing was published; "
            f"{account_token_fix(account)}, then run this again."
        ) from None
    except remote.IntegratorError as error:
        raise CommandError(
            # integrator.io's own sentence may end in a period already.
            f"Cannot read the template integration {source} from the integrator.io account "
            f"{account.key!r}: {str(error).rstrip('.')}. "
            "Nothing was published; run again when it answers, or publish with --offline "
            "(such a version cannot be rolled out to existing tenants)."
        ) from None
