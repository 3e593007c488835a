"""Every admin action names the permission it needs (`@admin.action(permissions=[...])`):
Django then offers it, and runs it when posted, only to a user who has it. For a permission
other than add/change/delete/view, the ModelAdmin answers `has_<name>_permission`; this mixin
answers those of core.AdminAction (the operator's and the administrator's actions, see
core.ops_roles). tests/core/test_ops_roles.py checks that no action goes without one."""

from core.models import AdminAction


def _has_permission(codename: str):
    def check(self, request) -> bool:
        return request.user.has_perm(f"core.{codename}")

    check.__name__ = f"has_{codename}_permission"
    check.__doc__ = f"Whether the user holds core.{codename}."
    return check


class ActionPermissions:
    """Mixed into each ModelAdmin whose actions name a core.AdminAction permission."""


for _codename, _ in AdminAction._meta.permissions:
    setattr(ActionPermissions, f"has_{_codename}_permission", _has_permission(_codename))
