"""Every URL of the project, called by an anonymous caller, a member of another organization and
a member of the organization; and every view built on the base classes that apply the access rule.

The URL patterns are walked from the resolver, so a new endpoint is swept without anyone adding
it here; its path parameters are filled with the objects of one organization (``acme``, its space,
connection, commit, grants, token, audit event). A parameter the sweep cannot fill fails the test
with the line to add. Each URL is called with GET, POST, PUT, PATCH and DELETE, with a body that
would make a write succeed for someone allowed to make it:

- anonymous: 401, 403, 405 or a redirect to sign-in; never 2xx;
- a member of another organization: 403, 404 or 405 (or 400 "no such organization" for one named
  in the body, as for a name that does not exist); never 2xx, never a redirect.

Nothing of the project's data may change for either (a snapshot of every row before and after).
Endpoints about the caller alone (their own tokens, the dashboard, lists) answer the outsider with
2xx, but nothing of ``acme`` may be in the answer.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from django.apps import apps
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, path, resolve
from django.urls.resolvers import RegexPattern

from accessgrants.accesskeys import issue_key
from accessgrants.models import AccessKey, IdentityPolicy, KeyRequest, PolicyAttachment
from commits.models import Commit, CommitItem, OrganizationWebhook
from connections import lifecycle
from portal.audit.models import AuditEvent
from portal.audit.trail import record
from portal.auth.models import ApiToken
from portal.tenancy.access import PortalApiView
from portal.tenancy.changes import create_organization, create_space
from portal.tenancy.grants import Grant, Role, Scope
from portal.tenancy.models import Organization, Space
from portal.tenancy.scoped import AccessScope, ScopedApiView, ScopedViewSet
from tests.connection_inputs import VALID_INPUTS

METHODS = ["get", "post", "put", "patch", "delete"]

# Routes left out, each with its reason. Everything else the resolver knows is swept.
NOT_SWEPT = {
    "admin/": "Django's admin: staff only, behind its own sign-in (tests/test_admin.py)",
    "accounts/": "django-allauth's sign-in, sign-up and own-account pages: public, or about the caller alone",
    "api/schema/": "the OpenAPI schema: public description of the API, no data",
    "api/docs/": "Swagger UI: public page that shows the schema, no data",
    ".well-known/openid-configuration": "Spaceport's OIDC issuer discovery: public by design, clouds fetch it",
    ".well-known/jwks.json": "Spaceport's OIDC signing keys (public halves): public by design, clouds fetch them",
    "healthz": "liveness probe: public by design for load balancers, answers 'ok' and nothing else (test_health.py)",
    "readyz": "readiness probe: public by design for orchestrators, names only its checks (test_health.py)",
    "metrics": "Prometheus metrics: 404 unless the operator sets a token or networks, no tenant in any figure "
    "(test_metrics.py)",
}

# Routes about the caller alone, or lists filtered to what the caller may see: the outsider gets 2xx
# from GET, with nothing of acme in it. Writes that only make something of the caller's own are
# not sent by the outsider (they would change rows legitimately); the anonymous caller sends them all.
THE_CALLERS_OWN = {
    "": "the dashboard lists the caller's organizations",
    "account/tokens/": "the caller's own personal API tokens",
    "api/v1/me/": "who the caller is",
    "api/v1/organizations/": "organizations the caller may see",
    "api/v1/spaces/": "spaces the caller may see",
    "api/v1/grants/": "grants the caller may see",
    "api/v1/tokens/": "the caller's own personal API tokens",
    "api/v1/connection-methods/": "the catalogue of connection methods, the same for everyone",
    "api/v1/keys/": "the caller's own S3 access keys",
    "keys/": "the caller's own S3 keys and requests",
    "api/v1/key-requests/": "the caller's own requests for S3 access keys",
}
OWN_WRITES = {
    "account/tokens/": "creates a token of the caller's own",
    "api/v1/tokens/": "creates a token of the caller's own",
    "api/v1/keys/": "makes an S3 key of the caller's own, in an organization they belong to",
    "keys/": "requests an S3 key for the caller, in an organization they belong to",
    "api/v1/key-requests/": "requests an S3 key for the caller, in an organization they belong to",
}

# Where a parameter of each name takes its value, by the literal segment before it.
FILLERS = {
    ("o", "name"): "organization",
    ("o", "organization"): "organization",
    ("organizations", "organization_name"): "organization",
    ("organizations", "name"): "organization",
    ("s", "space"): "space",
    ("spaces", "space_name"): "space",
    ("spaces", "name"): "space",
    ("connections", "connection"): "connection",
    ("connections", "name"): "connection",
    ("new", "provider"): "provider",
    ("commits", "commit_id"): "commit",
    ("grants", "grant_id"): "grant",
    ("grants", "pk"): "grant",
    ("tokens", "token_id"): "token",
    ("tokens", "pk"): "token",
    ("audit-events", "pk"): "audit_event",
    ("policies", "name"): "policy",
    ("policies", "policy"): "policy",
    ("keys", "access_key_id"): "access_key",
    ("key-requests", "pk"): "key_request",
    ("key-requests", "request_id"): "key_request",
    ("requests", "request_id"): "key_request",
    ("accessmanager", "rest"): "unknown",
    ("v1", ".*"): "unknown",
}

# Parameters and fields every write endpoint reads, naming acme's objects: a missing authorization
# check would then let the write through instead of failing on the input.
ACME_ACCESS_KEY = "SPKACMEMEMBERKEY0001"
QUERY = {"organization": "acme", "space": "raw", "rootDir": "batch-2", "organization_name": "acme"}
FIELDS = {
    "organization": "acme",
    "space": "raw",
    "name": "taken-over",
    "display_name": "Taken over",
    "description": "taken over",
    "confidentiality": "PUBLIC",
    "retention_days": 1,
    "user_email": "outsider@example.com",
    "email": "outsider@example.com",
    "scope": "organization",
    "role": "admin",
    "root_dir": "batch-2",
    "url": "https://hooks.example.com/spaceport",
    "secret": "a-webhook-secret-of-the-outsider",
    "enabled": False,
    "access": "read",
    "lifetime_minutes": 30,
    "method": "aws_cross_account_role",
    "provider": "aws",
    "access_key": ACME_ACCESS_KEY,
    **VALID_INPUTS["aws_cross_account_role"],
}
# The page forms use these prefixes (``space-name``, ``grant-role``).
FORM_PREFIXES = ["organization", "space", "grant"]
VICTIM_MARKERS = ['"acme"', "/o/acme/", "Acme Research", "owner@example.com", "member@example.com", "acme-store"]


@dataclass(frozen=True)
class Route:
    path: str  # as the resolver spells it, with <parameters>
    pattern: URLPattern


def _template(pattern: Any) -> str:
    """A pattern's route with regex groups spelt as <name>, so both kinds read alike."""
    text = str(pattern)
    if isinstance(pattern, RegexPattern):
        text = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", text).lstrip("^").rstrip("$")
    return text


def walk(patterns: list[Any], prefix: str = "") -> Iterator[Route]:
    for entry in patterns:
        path = prefix + _template(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, path)
        else:
            yield Route(path=path, pattern=entry)


def swept_routes() -> list[Route]:
    return [route for route in walk(get_resolver().url_patterns) if not route.path.startswith(tuple(NOT_SWEPT))]


@pytest.fixture
def acme(organization: Organization, space: Space, owner: Any, member: Any) -> dict[str, str]:
    """Everything of acme a path can name, made by the shared actors."""
    connection = lifecycle.create_connection(
        organization,
        name="acme-store",
        method="aws_cross_account_role",
        values=VALID_INPUTS["aws_cross_account_role"],
        validate=False,
    )
    commit = Commit.objects.create(organization=organization, space=space, root_dir="batch-1", user=member)
    CommitItem.objects.create(commit=commit, key="batch-1/run-001.csv", size=12)
    OrganizationWebhook.objects.create(organization=organization, url="https://hooks.acme.example/spaceport")
    grant = Grant.objects.get(user=member, scope=Scope.SPACE, space=space)
    token, _ = ApiToken.issue(owner, name="acme automation")
    event = record("grant.created", grant, organization=organization)
    policy = IdentityPolicy.objects.create(
        organization=organization,
        name="read-raw",
        document={
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "acme-raw/*"}],
        },
    )
    PolicyAttachment.objects.create(policy=policy, user=member)
    access_key = issue_key(member, organization, description="acme laptop").key
    AccessKey.objects.filter(pk=access_key.pk).update(access_key_id=ACME_ACCESS_KEY)
    access_key.refresh_from_db()
    key_request = KeyRequest.objects.create(requester=member, organization=organization, reason="acme backups")
    return {
        "organization": organization.name,
        "space": space.name,
        "connection": connection.name,
        "provider": connection.provider,
        "commit": str(commit.pk),
        "grant": str(grant.pk),
        "token": str(token.pk),
        "audit_event": str(event.pk),
        "policy": policy.name,
        "access_key": access_key.access_key_id,
        "key_request": str(key_request.pk),
        "unknown": "no-such-endpoint",
    }


@pytest.fixture
def elsewhere(outsider: Any) -> Organization:
    """The outsider is no stranger to Spaceport: they belong to another organization."""
    globex = create_organization(name="globex", display_name="Globex Logistics", owner=outsider)
    shipments = create_space(globex, name="shipments")
    Grant.objects.create(user=outsider, scope=Scope.SPACE, role=Role.TRUSTEE, organization=globex, space=shipments)
    return globex


def url_for(route: Route, values: dict[str, str]) -> str:
    def fill(match: re.Match[str]) -> str:
        before = route.path[: match.start()].rstrip("/").rsplit("/", 1)[-1]
        name = match.group("name") or match.group("regex")
        key = (before, name)
        assert key in FILLERS, (
            f"the sweep cannot fill {name!r} in {route.path!r} (after {before!r}): add {key!r} and the object "
            f"it names to FILLERS in tests/test_access_sweep.py, and make that object in the acme fixture"
        )
        return values[FILLERS[key]]

    filled = re.sub(r"<(?:\w+:)?(?P<name>\w+)>|(?P<regex>\.\*)", fill, route.path)
    url = f"/{filled}"
    match = resolve(url)
    defaults = route.pattern.default_args.items()
    assert match.func == route.pattern.callback and defaults <= match.kwargs.items(), (
        f"{url} (made for {route.path!r}) resolves to {match.route!r}: fix FILLERS in tests/test_access_sweep.py"
    )
    return url


def call(client: Client, method: str, url: str) -> Any:
    """One request: JSON to the REST API, a form everywhere else, acme named in both and in the query."""
    if method == "get":
        return client.get(url, QUERY)
    full = f"{url}?{urlencode(QUERY)}"
    if url.startswith("/api/v1/"):
        return getattr(client, method)(full, json.dumps(FIELDS), content_type="application/json")
    form = {key: str(value) for key, value in FIELDS.items()}
    form.update({f"{prefix}-{key}": str(value) for prefix in FORM_PREFIXES for key, value in FIELDS.items()})
    if method == "post":
        return client.post(full, form)
    return getattr(client, method)(full, urlencode(form), content_type="application/x-www-form-urlencoded")


SNAPSHOT_APPS = ["portal", "accessgrants", "connections", "commits", "auth", "account", "mfa", "socialaccount"]


def snapshot() -> dict[str, list[str]]:
    """Every row of the project's models; refused attempts may be audited, and signing in stamps
    ``last_login``, so the audit trail and that field are left out."""
    rows: dict[str, list[str]] = {}
    for app in SNAPSHOT_APPS:
        for model in apps.get_app_config(app).get_models():
            if model is AuditEvent:
                continue
            fields = [f.attname for f in model._meta.concrete_fields if f.attname != "last_login"]
            rows[model._meta.label] = sorted(map(repr, model.objects.values_list(*fields)))
    return rows


def changed(before: dict[str, list[str]], after: dict[str, list[str]]) -> list[str]:
    return [label for label in before if before[label] != after[label]]


def names_nothing_it_knows(response: Any) -> bool:
    """A write naming acme in its body is refused as if acme did not exist (400 on that field)."""
    return response.status_code == 400 and response.json().get("error") == "does_not_exist"


def is_sign_in_redirect(response: Any) -> bool:
    return response.status_code in (301, 302, 303) and response["Location"].startswith(
        (settings.LOGIN_URL, "/accounts/login/")
    )


def test_every_route_is_swept_or_left_out_for_a_reason() -> None:
    routes = swept_routes()
    assert len(routes) > 50
    names = {route.path for route in routes}
    for wanted in [
        "api/v1/organizations/<organization_name>/spaces/<space_name>/credentials/",
        "api/v1/organizations/<organization_name>/spaces/<space_name>/commits/<commit_id>/",
        "api/v1/organizations/<organization_name>/connections/<name>/validate/",
        "api/v2.0/accessmanager/read",
        "accessmanager/api/v2.0/accessmanager/commit",
        "o/<name>/connections/<connection>/details/",
        "o/<organization>/s/<space>/credentials/",
        "o/<name>/grants/<grant_id>/revoke/",
    ]:
        assert any(name.replace("str:", "").replace("int:", "") == wanted for name in names), wanted


def test_a_route_the_sweep_cannot_fill_fails_with_what_to_add() -> None:
    robots = "api/v1/organizations/<str:organization_name>/robots/<int:robot_id>/"
    route = Route(path=robots, pattern=path(robots, lambda request: None))
    with pytest.raises(AssertionError, match=r"add \('robots', 'robot_id'\) and the object it names to FILLERS"):
        url_for(route, {"organization": "acme"})


def test_an_anonymous_caller_gets_nowhere(acme: dict[str, str], elsewhere: Organization) -> None:
    client = Client()
    failures = []
    for route in swept_routes():
        url = url_for(route, acme)
        before = snapshot()
        for method in METHODS:
            response = call(client, method, url)
            refused = response.status_code in (401, 403, 405) or is_sign_in_redirect(response)
            # The catch-alls answer "no such endpoint" to everybody.
            unknown = route.path.endswith(("<rest>", ".*/")) and response.status_code == 404
            if not (refused or unknown):
                failures.append(f"{method.upper()} {url}: {response.status_code}")
        if difference := changed(before, snapshot()):
            failures.append(f"{url} changed {difference}")
    assert not failures, "anonymous callers got through:\n" + "\n".join(failures)


def test_a_member_of_another_organization_gets_nowhere(
    acme: dict[str, str], elsewhere: Organization, outsider: Any
) -> None:
    client = Client()
    client.force_login(outsider)
    failures = []
    for route in swept_routes():
        url = url_for(route, acme)
        own = route.path in THE_CALLERS_OWN
        before = snapshot()
        for method in METHODS:
            if own and method != "get" and route.path in OWN_WRITES:
                continue
            response = call(client, method, url)
            body = response.content.decode(errors="replace")
            if own and 200 <= response.status_code < 300:
                leaked = [marker for marker in VICTIM_MARKERS if marker in body]
                if leaked:
                    failures.append(f"{method.upper()} {url}: {response.status_code} shows {leaked}")
            elif response.status_code not in (403, 404, 405) and not names_nothing_it_knows(response):
                failures.append(f"{method.upper()} {url}: {response.status_code} {body[:160]!r}")
        if difference := changed(before, snapshot()):
            failures.append(f"{url} changed {difference}")
    assert not failures, "a member of another organization got through:\n" + "\n".join(failures)


def test_the_filled_paths_reach_acme_for_its_own_people(
    acme: dict[str, str], owner: Any, member: Any, platform_admin: Any
) -> None:
    """The control: with the same paths, acme's owner, its member or a platform admin gets an
    answer, so the refusals above are refusals of the outsider and not paths that name nothing."""
    clients = []
    for user in (owner, member, platform_admin):
        client = Client()
        client.force_login(user)
        clients.append(client)
    unreached = []
    for route in swept_routes():
        if "<" not in route.path or route.path.endswith(("<rest>", ".*/")):
            continue
        url = url_for(route, acme)
        answers = [client.get(url).status_code for client in clients]
        if not {200, 405} & set(answers):
            unreached.append(f"GET {url}: {answers}")
    assert not unreached, "nobody of acme could reach:\n" + "\n".join(unreached)


# --- every view applies the rule ---

# Views that answer about no organization or space, each with its reason. Any other view must be
# built on the scoped bases (portal.tenancy.scoped, portal.tenancy.pages) and say its scope.
UNSCOPED = {
    "admin/": "Django's admin: staff only, behind its own sign-in and permissions",
    "accounts/": "sign-in, sign-up and the caller's own account (django-allauth)",
    "healthz": "liveness probe: public, answers 'ok' and nothing else",
    "readyz": "readiness probe: public, names only its checks",
    "metrics": "Prometheus metrics: the operator's token or networks, figures about no organization",
    ".well-known/": "Spaceport's OIDC issuer discovery and public keys: public by design",
    "api/schema/": "the OpenAPI schema: a description of the API, no data",
    "api/docs/": "Swagger UI for the schema, no data",
    "api/v1/me/": "the caller's own account",
    "api/v1/tokens/": "the caller's own personal API tokens (queryset of their own only)",
    "account/tokens/": "the caller's own personal API tokens (queryset of their own only)",
    "api/v1/connection-methods/": "the catalogue of connection methods: the same for everyone, no data",
    "api/v1/.*/": "the catch-all that answers 'no such endpoint' in the API's shape",
    "api/v2.0/accessmanager/": "AccessManager's protocol: organization and space come in the query and go to "
    "accessgrants' front door, which applies the same rules and records refusals (test_accessmanager_api.py)",
    "accessmanager/api/v2.0/accessmanager/": "the same AccessManager endpoints under their legacy prefix",
}


def view_of(pattern: URLPattern) -> Any:
    """The class of a class-based view (DRF or Django), else the function."""
    callback = pattern.callback
    return getattr(callback, "cls", None) or getattr(callback, "view_class", None) or callback


def unscoped_views(routes: list[Route]) -> list[str]:
    """Routes whose view is not built on the scoped bases, or declares no access scope."""
    found = []
    for route in routes:
        if route.path.startswith(tuple(UNSCOPED)):
            continue
        view = view_of(route.pattern)
        scope = getattr(view, "access_scope", None)
        if isinstance(view, type) and not issubclass(view, (ScopedViewSet, ScopedApiView)):
            scope = None
        if not isinstance(scope, AccessScope):
            found.append(f"{route.path}: {view.__module__}.{view.__qualname__}")
    return found


def test_every_view_applies_the_rule_or_is_listed_as_unscoped() -> None:
    unscoped = unscoped_views(list(walk(get_resolver().url_patterns)))
    assert not unscoped, (
        "views that apply no access rule: build them on portal.tenancy.scoped (API) or portal.tenancy.pages "
        "(pages), or list them in UNSCOPED with the reason:\n" + "\n".join(unscoped)
    )


def test_a_new_endpoint_without_the_base_classes_fails_the_sweep() -> None:
    class Robots(PortalApiView):
        access_scope = AccessScope.ORGANIZATION

    def robot_page(request: Any, name: str) -> Any:
        return None

    robots = "api/v1/organizations/<str:organization_name>/robots/"
    routes = [Route(robots, path(robots, Robots.as_view())), Route("o/<str:name>/robots/", path("", robot_page))]
    assert len(unscoped_views(routes)) == 2


ADMINS_OWN = [
    "organization",
    "space",
    "grant",
    "cloudconnection",
    "organizationwebhook",
    "identitypolicy",
    "policyattachment",
    "keypolicy",
]


def admins_own() -> dict[str, list[str]]:
    """What only an organization's owners and admins may change: the organization, its spaces,
    grants, connections, webhook and identity policies."""
    rows = {}
    for model in apps.get_models():
        if model._meta.model_name in ADMINS_OWN:
            fields = [f.attname for f in model._meta.concrete_fields]
            rows[model._meta.label] = sorted(map(repr, model.objects.values_list(*fields)))
    rows["owners"] = sorted(map(repr, Organization.owners.through.objects.values_list("organization_id", "user_id")))
    return rows


def test_a_member_changes_nothing_only_admins_may_change(acme: dict[str, str], member: Any) -> None:
    """acme's member (a supplier of ``raw``) walks every URL with every method: what belongs to
    acme's admins never changes, and no answer is a server error."""
    client = Client()
    client.force_login(member)
    failures = []
    for route in swept_routes():
        url = url_for(route, acme)
        before = admins_own()
        for method in METHODS:
            if route.path in OWN_WRITES and method != "get":
                continue
            response = call(client, method, url)
            if response.status_code >= 500:
                failures.append(f"{method.upper()} {url}: {response.status_code}")
        if difference := changed(before, admins_own()):
            failures.append(f"{url} changed {difference}")
    assert not failures, "a member changed what only admins may:\n" + "\n".join(failures)
