"""`manage.py sync_runs [--tenant X] [--check] | --account [KEY]`: sync runs now, by hand,
outside the schedule.

Without --tenant every live tenant is synced, one after the other, still within the runs'
share of the rate limit. --check also pings the tenants' connections and re-lists flows.
--account runs one cycle of the account-wide sync instead (what the schedule does).
"""

from django.core.management.base import BaseCommand, CommandError

from core import log_context
from core.accounts import (
    DEFAULT_ACCOUNT_KEY,
    integrator_account_default,
    integrator_account_get,
)
from core.models import IntegratorAccount
from runs.account_sync import account_sync_now
from runs.call_budget import CallCounter, build_runs_client
from runs.checks import tenant_connections_check
from runs.scheduling import live_tenants
from runs.sync import tenant_runs_sync
from tenants.models import Tenant


class Command(BaseCommand):
    help = "Sync the mirror of flow runs from integrator.io now (all live tenants, or one)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="The external_id of one tenant.")
        parser.add_argument(
            "--check", action="store_true", help="Also ping connections and re-list flows."
        )
        parser.add_argument(
            "--account",
            nargs="?",
            const=DEFAULT_ACCOUNT_KEY,
            help="Run one cycle of the account-wide sync of the account with this key "
            "(without a key: the default account).",
        )

    def handle(self, *args, tenant=None, check=False, account=None, **options):
        if account is not None:
            if tenant is not None or check:
                raise CommandError("--account syncs every tenant: use it alone.")
            integrator_account_default()  # made on first use, as the schedule would
            try:
                integrator_account_get(key=account)
            except IntegratorAccount.DoesNotExist:
                raise CommandError(
                    f"No integrator.io account {account!r} (admin: integrator.io accounts)."
                ) from None
            result = account_sync_now(cursor_key=account)
            line = (
                f"account {account}: {result.created} new, {result.updated} updated, "
                f"{result.ignored} job(s) of no tenant, {result.calls} call(s)"
            )
            if result.skipped:
                line += "; another worker holds this account's cycle, nothing done"
            if not result.ok:
                raise CommandError(f"{line}; FAILED: {result.error}")
            self.stdout.write(line)
            return
        if tenant is not None:
            found = Tenant.objects.filter(external_id=tenant, superseded_at__isnull=True).first()
            if found is None:
                raise CommandError(f"No tenant with external_id {tenant!r}.")
            if not live_tenants().filter(pk=found.pk).exists():
                raise CommandError(
                    f"The tenant is {found.status}"
                    + ("" if found.integration_id else " and has no integration")
                    + "; only active or degraded tenants with an integration are synced."
                )
            tenants = [found]
        else:
            tenants = list(live_tenants().order_by("external_id"))
            if not tenants:
                self.stdout.write(
                    "No live tenant to sync: only active or degraded tenants with an "
                    "integration are synced."
                )
                return
        counter = CallCounter()
        failures = 0
        for each in tenants:
            with (
                build_runs_client(account=each.account, counter=counter) as client,
                log_context.bound(tenant=each.external_id),
            ):
                result = tenant_runs_sync(tenant=each, client=client, counter=counter)
                line = (
                    f"{each.external_id}: {result.created} new, {result.updated} updated, "
                    f"{result.calls} call(s)"
                )
                if check:
                    checked = tenant_connections_check(tenant=each, client=client)
                    line += f"; {checked.pinged} connection(s) pinged"
                    if checked.failed:
                        line += f", failing: {', '.join(checked.failed)}"
                    if checked.error:
                        line += f"; check failed: {checked.error}"
            if result.ok:
                self.stdout.write(line)
            else:
                failures += 1
                self.stderr.write(f"{line}; FAILED: {result.error}")
        if failures:
            raise CommandError(f"{failures} tenant(s) could not be synced.")
