"""`manage.py check_drift [--tenant X]`: run the drift check now, outside its schedule.

With --tenant, that tenant is checked whatever its last check (not while a job of it is
unfinished: that job is changing its integration); without, every live tenant is,
whatever its last check (the periodic check's tick leaves those it saw within
DRIFT_CHECK_INTERVAL_SECONDS alone, and would say "Checked 0 tenants" right after it ran).
Tenants with an unfinished job are left out, as by the tick. Read only: a template that says
`drift: repair` still gets its reconcile job, as from the schedule.
"""

from django.core.management.base import BaseCommand, CommandError

from core.errors import ApplicationError
from core.integrator_client import AccountClients
from integrator.errors import IntegratorError
from provisioning.drift import (
    LIVE_STATUSES,
    drift_busy_job,
    drift_check,
    drift_check_all,
    drift_checkable_count,
)
from tenants.call_costs import CallTally
from tenants.models import CallPurpose, Tenant


class Command(BaseCommand):
    help = "Compare live tenants' integrations with their template versions now (drift)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", help="The external_id of one tenant.")

    def handle(self, *args, tenant=None, **options):
        # Its reads count in each tenant's costs under `plan`, as the periodic check's do.
        tally = CallTally()
        try:
            self._check(tenant, tally)
        finally:
            tally.flush()

    def _check(self, tenant, tally):
        with AccountClients(on_call=tally) as clients:
            if tenant is None:
                total = drift_checkable_count()
                self.stdout.write(
                    f"Checking {total} live tenant{'' if total == 1 else 's'} "
                    "(tenants with a job under way are left out)."
                )

                def progress(so_far):
                    # After each batch (DRIFT_CHECK_BATCH tenants): a long check is seen to move.
                    if so_far.checked + so_far.errors < total:
                        self.stdout.write(
                            f"  {so_far.checked + so_far.errors} of {total} checked: "
                            f"{so_far.drifted} drifted, {so_far.errors} not checked"
                        )

                report = drift_check_all(clients=clients.of, tally=tally, progress=progress)
                tenants = "tenant" if report.checked == 1 else "tenants"
                repairs = "repair" if report.repairs == 1 else "repairs"
                self.stdout.write(
                    f"Checked {report.checked} {tenants}: {report.drifted} drifted, "
                    f"{report.cleared} cleared, {report.errors} not checked, "
                    f"{report.repairs} {repairs} queued."
                )
                return
            found = (
                Tenant.objects.filter(external_id=tenant, superseded_at__isnull=True)
                .select_related("template", "template_version__template")
                .first()
            )
            if found is None:
                raise CommandError(f"No tenant with external_id {tenant!r}.")
            if found.status not in LIVE_STATUSES or not found.integration_id:
                raise CommandError(f"The tenant is {found.status}; only live tenants drift.")
            busy = drift_busy_job(tenant=found)
            if busy is not None:
                raise CommandError(
                    f"{tenant}: its {busy.kind} job {busy.pk} is {busy.status} and changing its "
                    "integration; check again once it has ended."
                )
            tally.attribute(tenant_id=found.pk, purpose=CallPurpose.PLAN)
            try:
                episode = drift_check(tenant=found, client=clients.of(found.account))
            except (ApplicationError, IntegratorError) as error:
                raise CommandError(f"Not checked: {error}") from None
        if episode is None:
            self.stdout.write(f"{tenant}: in sync with version {found.template_version.version}.")
            return
        self.stdout.write(f"{tenant}: drifted since {episode.found_at:%Y-%m-%d %H:%M}:")
        for change in episode.changes:
            self.stdout.write(f"  {change['change']}: {change['reason']}")
        if episode.repair_job is not None:
            # The template says `drift: repair`: its reconcile is asked for already (asking
            # again through the API would be refused while it is unfinished).
            job = episode.repair_job
            self.stdout.write(f"Repair queued: job {job.pk} ({job.kind}, {job.status}).")
