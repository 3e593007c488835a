"""The ops roles: three Django groups whose permissions follow this module.

- **viewer** sees every admin page of the service and changes nothing: the `view_*`
  permissions.
- **operator** is a viewer who runs the actions on tenants, jobs, webhook deliveries (and
  an endpoint's test event), rollouts and tenants' pins (the `core.run_*_actions` permissions of
  `OPERATOR_ACTIONS`); it edits no record.
- **administrator** holds every permission of the service: API keys, templates, tenant
  settings, OAuth clients, webhook endpoints, orphans, and the operator's actions.

Users and groups (django.contrib.auth) belong to no role: only a superuser manages them, so that
an administrator cannot make themselves a superuser. Superusers keep every permission.

The groups are made by migration `core.0002_ops_roles`, and their permissions are set again
after every `migrate` (`ops_roles_sync`, connected in core.apps), so that the models of a new
app join the roles as they are installed. The groups are the code's: edit this module, not the
groups (make another group for another mix).
"""

from django.apps import apps as global_apps
from django.contrib.auth.management import create_permissions

VIEWER = "viewer"
OPERATOR = "operator"
ADMINISTRATOR = "administrator"
ROLES = (VIEWER, OPERATOR, ADMINISTRATOR)

# The permissions (core.AdminAction) of the operator's actions; run_orphan_actions, which
# deletes in integrator.io, is the administrator's only.
OPERATOR_ACTIONS = (
    "run_tenant_actions",
    "run_job_actions",
    "run_delivery_actions",
    "run_rollout_actions",
)
# Apps whose permissions no role holds: who may log in and what they may do.
_OUTSIDE_ROLES = ("auth", "contenttypes", "sessions")


def _role_permissions(permissions, role: str):
    """The role's permissions, from `permissions` (a queryset of all of them)."""
    service = permissions.exclude(content_type__app_label__in=_OUTSIDE_ROLES)
    viewer = service.filter(codename__startswith="view_")
    if role == VIEWER:
        return viewer
    if role == OPERATOR:
        actions = service.filter(content_type__app_label="core", codename__in=OPERATOR_ACTIONS)
        return viewer | actions
    return service


def ops_roles_sync(*, apps, using: str = "default") -> None:
    """Create the three groups if missing and set each one's permissions to its role's
    (idempotent). `apps` is a migration's app registry or django.apps.apps."""
    try:
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
    except LookupError:
        return  # a partial migrate that has not reached django.contrib.auth yet
    for role in ROLES:
        group, _ = Group.objects.using(using).get_or_create(name=role)
        wanted = _role_permissions(Permission.objects.using(using), role)
        group.permissions.set(list(wanted.values_list("pk", flat=True)))


def ops_roles_after_migrate(sender, *, using, apps=global_apps, **kwargs) -> None:
    """post_migrate (sent for `core` by migrate, and by flush without `apps`): every app's
    permissions first (Django makes them app by app, in the same signal, and later apps' would
    not exist yet), then the roles."""
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using, apps=apps)
    ops_roles_sync(apps=apps, using=using)
