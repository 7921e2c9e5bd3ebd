"""Start the test identity provider: migrate, create its user and client, serve on loopback.

Run as ``python -m tests.idp.serve`` with ``IDP_STATE_DIR``, ``IDP_PORT`` and ``IDP_BOOTSTRAP``
(JSON: the user, the client and its redirect URIs) in the environment.
"""

from __future__ import annotations

import json
import os
from typing import Any


def bootstrap(spec: dict[str, Any]) -> None:
    from django.contrib.auth import get_user_model
    from oauth2_provider.models import Application

    for person in spec["users"]:
        user, _ = get_user_model().objects.get_or_create(username=person["username"])
        user.email = person["email"]
        user.first_name = person.get("first_name", "")
        user.set_password(person["password"])
        user.save()
    client = spec["client"]
    Application.objects.update_or_create(
        client_id=client["client_id"],
        defaults={
            "name": "Spaceport",
            "client_secret": client["client_secret"],
            "client_type": Application.CLIENT_CONFIDENTIAL,
            "authorization_grant_type": Application.GRANT_AUTHORIZATION_CODE,
            "algorithm": Application.RS256_ALGORITHM,
            "redirect_uris": " ".join(client["redirect_uris"]),
            "skip_authorization": False,
        },
    )


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.idp.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
    from django.core.wsgi import get_wsgi_application

    call_command("migrate", verbosity=0, interactive=False)
    bootstrap(json.loads(os.environ["IDP_BOOTSTRAP"]))

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadedWSGIServer(("127.0.0.1", int(os.environ["IDP_PORT"])), QuietHandler)
    server.daemon_threads = True
    server.set_app(get_wsgi_application())
    server.serve_forever()


if __name__ == "__main__":
    main()
