"""A gateway served in-process on a loopback port, its application at hand for the tests that
look inside it (its key usage, its upstream connector), and stopped as ``rungateway`` stops it;
the world the gateway's end-to-end tests share, and a boto3 client signing with a Spaceport key."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Any

import boto3
from aiohttp import web
from botocore.config import Config
from botocore.exceptions import ClientError

from gateway.server import GATEWAY, USAGE, application
from tests.emulators import LOOPBACK, free_port


@dataclass
class LiveGateway:
    url: str
    app: web.Application
    loop: asyncio.AbstractEventLoop
    runner: web.AppRunner
    thread: threading.Thread
    stopped: bool = field(default=False)

    @property
    def usage(self) -> Any:
        return self.app[USAGE]

    @property
    def gateway(self) -> Any:
        return self.app[GATEWAY]

    def call(self, work: Any) -> Any:
        """Run a coroutine on the gateway's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(work, self.loop).result(30)

    def stop(self) -> None:
        if self.stopped:
            return
        self.stopped = True
        self.call(self.runner.cleanup())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def start_gateway(**site: Any) -> LiveGateway:
    port = free_port()
    loop = asyncio.new_event_loop()
    app = application()
    runner = web.AppRunner(app, access_log=None, **site.pop("runner", {}))
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, LOOPBACK, port, **site).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    return LiveGateway(f"http://{LOOPBACK}:{port}", app, loop, runner, thread)


def acme_world(organization: Any, member: Any, rclone_s3: Any) -> dict[str, Any]:
    """acme's raw (member supplies it) and ref (member may only read it) in rclone, and another
    organization; the member's key to acme. The same world as the gateway's end-to-end tests."""
    from accessgrants.accesskeys import issue_key
    from connections.active import make_active
    from portal.tenancy.changes import create_organization, create_space
    from portal.tenancy.grants import Grant, Role, Scope
    from tests.test_provider_s3compat import connect_new_bucket

    make_active(connect_new_bucket(organization, rclone_s3))
    ref = create_space(organization, name="ref", description="Reference data")
    Grant.objects.create(user=member, scope=Scope.SPACE, role=Role.USER, organization=organization, space=ref)
    other = create_organization(name="globex", display_name="Globex", owner=member)
    create_space(other, name="raw", description="Theirs")
    make_active(connect_new_bucket(other, rclone_s3))
    return {"key": issue_key(member, organization), "ref": ref}


def s3_for(url: str, issued: Any) -> Any:
    """A boto3 client that signs with the issued Spaceport access key and never retries."""
    return boto3.client(
        "s3",
        endpoint_url=url,
        aws_access_key_id=issued.key.access_key_id,
        aws_secret_access_key=issued.secret_key,
        region_name="us-east-1",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


def code_of(error: ClientError) -> str:
    return str(error.response["Error"]["Code"])
