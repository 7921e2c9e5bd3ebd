"""The import graph: no circle between modules, and apps meet only at each other's front doors.

Every import statement counts, function-local and ``TYPE_CHECKING`` ones included: a circle
hidden inside a function is still a circle a reader has to untangle. The layers themselves (which
app may import which) are import-linter's contract in ``pyproject.toml``; this test checks the
other half, which a layers contract cannot express: *where* one app may enter another.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from functools import cache

import grimp

ROOTS = ("spaceport", "portal", "connections", "accessgrants", "commits", "gateway")

# The apps, most specific first: the ``portal.*`` subpackages before ``portal`` itself, whose shell
# (app config, admin, tasks, commands, the model registry) is what is left of ``portal``. Whatever
# lives under ``spaceport`` is the project (settings, URL confs, Celery, WSGI/ASGI): it composes the
# apps, so it may import any of their modules.
APPS = (
    "portal.core",
    "portal.audit",
    "portal.web",
    "portal.tenancy",
    "portal.auth",
    "portal",
    "connections",
    "accessgrants",
    "commits",
    "gateway",
)
PROJECT = "spaceport"

# What other apps may import from each app: its front door and its models. A name ending in ``.*``
# opens a whole package: the shared kits are there to be used by everyone.
FRONT_DOORS = {
    "portal.core": ("portal.core.*",),
    "portal.audit": ("portal.audit.*",),
    "portal.web": ("portal.web.*",),
    "portal.tenancy": (
        "portal.tenancy.models",
        "portal.tenancy.grants",
        "portal.tenancy.access",
        "portal.tenancy.rules",
        "portal.tenancy.roleclaims",
        "portal.tenancy.granting",
        "portal.tenancy.changes",
        "portal.tenancy.scoped",  # the API views' base classes: every app's views are built on them
        "portal.tenancy.pages",  # the same rule for pages
    ),
    "portal.auth": (
        "portal.auth.issuer",
        "portal.auth.bearer",
        "portal.auth.authentication",
        "portal.auth.models",
        "portal.auth.issuer_checks",  # the system checks the portal app's config registers
    ),
    "portal": ("portal.models",),
    "connections": ("connections.storage", "connections.models"),
    "accessgrants": ("accessgrants.access", "accessgrants.decisions", "accessgrants.keysecrets", "accessgrants.models"),
    "commits": ("commits.starting", "commits.models"),
}

# Imports past a front door that stay for now, each with its reason; an entry goes when the work it
# names lands (an entry no import uses any more fails the test). Patterns as in FRONT_DOORS.
ALLOWED_PAST_THE_DOOR: dict[tuple[str, str], str] = {}

# Circles that stay for now, each with its reason (an entry that is no longer a circle fails the test).
ALLOWED_CIRCLES: dict[frozenset[str], str] = {}


@cache
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*ROOTS, cache_dir=None)


def modules() -> list[str]:
    """Every module of the apps but migrations, which are frozen history and name what they must."""
    return sorted(m for m in graph().modules if ".migrations" not in m)


def app_of(module: str) -> str:
    for app in APPS:
        if module == app or module.startswith(app + "."):
            return app
    return PROJECT


def matches(module: str, pattern: str) -> bool:
    if pattern.endswith(".*"):
        package = pattern[:-2]
        return module == package or module.startswith(package + ".")
    return module == pattern


def crossings() -> Iterator[tuple[str, str]]:
    """Each import from one app into another, the project's own imports left out."""
    for importer in modules():
        if app_of(importer) == PROJECT:
            continue
        for imported in sorted(graph().find_modules_directly_imported_by(importer)):
            if ".migrations" not in imported and app_of(imported) not in (app_of(importer), PROJECT):
                yield importer, imported


def through_the_door(importer: str, imported: str) -> bool:
    if any(matches(imported, door) for door in FRONT_DOORS[app_of(imported)]):
        return True
    return any(matches(importer, a) and matches(imported, b) for a, b in ALLOWED_PAST_THE_DOOR)


def circles() -> list[frozenset[str]]:
    """The strongly connected groups of two or more modules (Tarjan's algorithm)."""
    edges = {m: [t for t in graph().find_modules_directly_imported_by(m) if ".migrations" not in t] for m in modules()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        on_stack.add(module)
        for target in edges.get(module, ()):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in on_stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == module:
                    break
            if len(group) > 1:
                found.append(frozenset(group))

    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(max(limit, 10 * len(edges)))
    try:
        for module in edges:
            if module not in index:
                visit(module)
    finally:
        sys.setrecursionlimit(limit)
    return found


def lines(importer: str, imported: str) -> str:
    details = graph().get_import_details(importer=importer, imported=imported)
    return ", ".join(str(d["line_number"]) for d in details)


def test_no_module_imports_another_in_a_circle() -> None:
    unexplained = [group for group in circles() if group not in ALLOWED_CIRCLES]
    described = [
        "; ".join(
            f"{a} -> {b} (line {lines(a, b)})"
            for a in sorted(group)
            for b in sorted(graph().find_modules_directly_imported_by(a))
            if b in group
        )
        for group in unexplained
    ]
    assert not described, "import circles:\n" + "\n".join(described)


def test_apps_import_each_other_only_through_their_front_doors() -> None:
    past = [f"{a} -> {b} (line {lines(a, b)})" for a, b in crossings() if not through_the_door(a, b)]
    assert not past, "imports past another app's front door (import its front door instead):\n" + "\n".join(past)


def test_every_front_door_exists() -> None:
    known = set(graph().modules)
    missing = [door for doors in FRONT_DOORS.values() for door in doors if door.removesuffix(".*") not in known]
    assert not missing, f"front doors that are not modules: {missing}"


def test_every_allowance_is_still_needed() -> None:
    """An allowance whose import or circle has gone would let the same shortcut back in unnoticed."""
    past = list(crossings())
    unused_doors = [
        f"{a} -> {b}"
        for a, b in ALLOWED_PAST_THE_DOOR
        if not any(matches(importer, a) and matches(imported, b) for importer, imported in past)
    ]
    current = set(circles())
    unused_circles = [" / ".join(sorted(group)) for group in ALLOWED_CIRCLES if group not in current]
    assert not unused_doors, f"allowances past a front door that no import uses any more (remove them): {unused_doors}"
    assert not unused_circles, f"allowed circles that no longer exist (remove them): {unused_circles}"
