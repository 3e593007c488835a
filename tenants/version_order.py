"""The order of a template's version names, as a package registry orders releases.

`1.0.5` is lower than `1.1.0`, `1.10.0` higher than `1.9.0`, `1.1` the same as `1.1.0`, a
pre-release below its release (`2.0.0-rc.1` < `2.0.0`), with an optional leading `v` and
`+build` metadata ignored (semver's rules, numbers compared as numbers). A name that is not
of that shape (`"beta"`) has no place in the order: `version_key` answers None, and such a
version is neither higher nor lower than another.
"""

from __future__ import annotations

import re

_VERSION = re.compile(r"^v?(\d+(?:\.\d+)*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


def version_key(version: str) -> tuple | None:
    """A sort key for `version`, or None when it is not a dotted version."""
    match = _VERSION.match(str(version))
    if match is None:
        return None
    release = [int(part) for part in match.group(1).split(".")]
    while len(release) > 1 and release[-1] == 0:
        release.pop()  # 1.1 is 1.1.0
    pre_release = match.group(2)
    if pre_release is None:
        return (tuple(release), 1, ())
    parts = tuple(
        (0, int(part), "") if part.isdigit() else (1, 0, part) for part in pre_release.split(".")
    )
    return (tuple(release), 0, parts)


def version_higher(version: str, than: str) -> bool | None:
    """Whether `version` comes after `than`; None when either has no place in the order."""
    mine, theirs = version_key(version), version_key(than)
    if mine is None or theirs is None:
        return None
    return mine > theirs


def upgrade_available(*, latest: str, current: str) -> str | None:
    """The version to offer a tenant on `current` when its template's newest is `latest`:
    `latest` when it is a move up, never a lower version (one published out of order before
    publishing refused it) and nothing for the same one. Names outside the order are offered
    when they differ, as the newest is the one new tenants get."""
    if latest == current or version_higher(latest, current) is False:
        return None
    return latest
