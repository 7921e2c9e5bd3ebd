"""AccessManager's paths, mounted at ``/api/v2.0/accessmanager/`` and under its old context path.

Exact and case-sensitive as Spring 6 matched them: ``read/`` or ``Read`` fall through to the 404.
The project's URL conf builds them with the commit starter, which belongs to the app above this one.
"""

from __future__ import annotations

from django.urls import URLPattern, path, re_path

from accessgrants.compat import views


def accessmanager_patterns(start_commit: views.CommitStarter) -> list[URLPattern]:
    return [
        path("read", views.vend, {"operation": "read"}),
        path("upload", views.vend, {"operation": "upload"}),
        path("upload/main", views.vend, {"operation": "upload/main"}),
        path("delete", views.vend, {"operation": "delete"}),
        path("commit", views.commit, {"start": start_commit}),
        re_path(r"^(?P<rest>.*)$", views.unknown),
    ]
