"""Build Spaceport's image with buildah, without Docker and without a public image registry.

The Dockerfile takes its base as ``BASE_IMAGE``. Here the base is a Debian root made by ``debootstrap``
from the machine's configured Debian mirror and imported into a buildah store the test suite owns.
Two images are kept between runs, each tagged with a hash of what made it, so a changed recipe makes
a new one and an unchanged one costs nothing: the base, and the Dockerfile's ``environment`` stage
(the venv with the dependencies). A test then builds only the project stage on top of them
(``ENVIRONMENT_IMAGE``), and removes what it built.

Storage is ``vfs`` and isolation ``chroot``: both work as plain root without kernel features a CI
machine may lack. Every ``from`` and ``commit`` copies a whole root file system with ``vfs``, which is
why the build uses as few steps as it can instead of ``--layers``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import tomllib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CACHE_DIR = Path("/var/cache/spaceport-test")
STORE = CACHE_DIR / "containers"
RUN_ROOT = Path("/run/spaceport-test-containers")
BUILDAH = ("buildah", "--root", str(STORE), "--runroot", str(RUN_ROOT), "--storage-driver", "vfs")

BASE_SUITE = "bookworm"
BASE_PACKAGES = ("python3", "python3-venv", "ca-certificates")
# Bump when the way the base is made changes, so every machine makes it again.
BASE_RECIPE = 1
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
FALLBACK_MIRROR = "http://deb.debian.org/debian"

BUILD_TIMEOUT = 30 * 60
RUN_TIMEOUT = 5 * 60


class ImageBuildFailed(RuntimeError):
    """A buildah or debootstrap command failed; the message carries the end of its output."""


def unavailable_reason() -> str | None:
    """Why buildah cannot run on this machine at all, or None when it can.

    The build needs root (chroot isolation and a root-owned store) and the two Debian tools; where
    any is missing the deployment test skips with this sentence instead of failing on setup.
    """
    if os.geteuid() != 0:
        return "building the image with buildah (chroot isolation) needs root"
    for tool, package in (("buildah", "buildah"), ("debootstrap", "debootstrap")):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install -y {package}, or run scripts/install-test-tools)"
    probe = subprocess.run([*BUILDAH, "info"], capture_output=True, text=True, timeout=120, check=False)
    if probe.returncode != 0:
        return f"buildah cannot open its store here: {probe.stderr.strip()[-500:]}"
    return None


def buildah(*args: str, timeout: float = BUILD_TIMEOUT) -> str:
    """Run one buildah command on the suite's store and return its output."""
    result = subprocess.run([*BUILDAH, *args], capture_output=True, text=True, timeout=timeout, check=False)
    if result.returncode != 0:
        tail = (result.stdout + result.stderr)[-3000:]
        raise ImageBuildFailed(f"buildah {' '.join(args[:2])} failed ({result.returncode}):\n{tail}")
    return result.stdout


def image_exists(name: str) -> bool:
    result = subprocess.run(
        [*BUILDAH, "inspect", "--type", "image", name], capture_output=True, timeout=120, check=False
    )
    return result.returncode == 0


def debian_mirror() -> str:
    """The Debian mirror apt on this machine uses, so debootstrap fetches from where apt can."""
    sources = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*.sources"))]
    sources += sorted(Path("/etc/apt/sources.list.d").glob("*.list"))
    for source in sources:
        try:
            text = source.read_text()
        except OSError:
            continue
        if BASE_SUITE not in text:
            continue
        for uri in re.findall(r"(?:^URIs:\s*|^deb\s+(?:\[[^\]]*\]\s+)?)(\S+)", text, flags=re.MULTILINE):
            if uri.rstrip("/").endswith("/debian"):
                return uri
    return FALLBACK_MIRROR


def host_build_volumes() -> list[str]:
    """The machine's certificate bundle and pip configuration, mounted into the build's RUN steps,
    so pip inside the image reaches the package index the way pip on the machine does."""
    volumes = []
    if Path("/etc/ssl/certs").is_dir():
        volumes += ["--volume", "/etc/ssl/certs:/etc/ssl/certs:ro"]
    if Path("/etc/pip.conf").is_file():
        volumes += ["--volume", "/etc/pip.conf:/etc/pip.conf:ro"]
    return volumes


@contextlib.contextmanager
def cache_lock() -> Iterator[None]:
    """One run at a time makes the cached images; a parallel run waits and then reuses them."""
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with (CACHE_DIR / "images.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _digest(*parts: str | bytes) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def base_image_name() -> str:
    return f"localhost/spaceport-test-base:{BASE_SUITE}-{_digest(str(BASE_RECIPE), BASE_SUITE, *BASE_PACKAGES)}"


def ensure_base_image() -> str:
    """The Debian base, made once: debootstrap into a scratch folder, then imported as an image."""
    name = base_image_name()
    if image_exists(name):
        return name
    with tempfile.TemporaryDirectory(dir=CACHE_DIR, prefix="debootstrap-") as scratch:
        root = Path(scratch) / "root"
        result = subprocess.run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(BASE_PACKAGES)}",
                BASE_SUITE,
                str(root),
                debian_mirror(),
            ],
            capture_output=True,
            text=True,
            timeout=BUILD_TIMEOUT,
            check=False,
        )
        if result.returncode != 0:
            raise ImageBuildFailed(
                f"debootstrap failed ({result.returncode}):\n{(result.stdout + result.stderr)[-3000:]}"
            )
        for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for entry in (root / leftover).glob("*"):
                if entry.is_file():
                    entry.unlink()
        container = buildah("from", "scratch").strip()
        try:
            buildah("add", container, f"{root}/", "/")
            buildah("config", "--env", f"PATH={BASE_PATH}", "--cmd", "/bin/bash", container)
            buildah("commit", "--quiet", container, name)
        finally:
            buildah("rm", container)
    return name


def environment_image_name(base: str) -> str:
    """Named after what the Dockerfile's environment stage is made from: the base, the Dockerfile and
    the dependency list (not the rest of pyproject.toml, whose tool settings change far more often)."""
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    made_from = _digest(base, (REPO / "Dockerfile").read_bytes(), *dependencies)
    return f"localhost/spaceport-test-environment:{made_from}"


def ensure_environment_image(base: str) -> str:
    """The Dockerfile's first stage (venv and dependencies), built once per base and dependency set."""
    name = environment_image_name(base)
    if image_exists(name):
        return name
    buildah(
        "bud",
        "--isolation",
        "chroot",
        "--target",
        "environment",
        "--build-arg",
        f"BASE_IMAGE={base}",
        *host_build_volumes(),
        "--tag",
        name,
        str(REPO),
    )
    for stale in buildah("images", "--noheading", "--format", "{{.Name}}:{{.Tag}}").split():
        if stale.startswith("localhost/spaceport-test-environment:") and stale != name:
            with contextlib.suppress(ImageBuildFailed):
                buildah("rmi", stale)
    return name


@dataclass
class BuiltImage:
    """An image of the project built for one test, and the container the test runs commands in."""

    name: str
    container: str

    def run(self, *command: str, env: dict[str, str], timeout: float = RUN_TIMEOUT) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.run_argv(*command, env=env), capture_output=True, text=True, timeout=timeout, check=False
        )

    def run_argv(self, *command: str, env: dict[str, str]) -> list[str]:
        """``buildah run`` as the image's user, in its working directory, with only ``env`` added."""
        settings = [item for key, value in env.items() for item in ("--env", f"{key}={value}")]
        return [*BUILDAH, "run", "--isolation", "chroot", *settings, self.container, "--", *command]


@contextlib.contextmanager
def built_image() -> Iterator[BuiltImage]:
    """Build the Dockerfile as it is in the working tree on the cached base and environment, and
    remove the image and its container afterwards."""
    with cache_lock():
        base = ensure_base_image()
        environment = ensure_environment_image(base)
    name = f"localhost/spaceport-test:{uuid.uuid4().hex[:12]}"
    buildah(
        "bud",
        "--isolation",
        "chroot",
        "--build-arg",
        f"BASE_IMAGE={base}",
        "--build-arg",
        f"ENVIRONMENT_IMAGE={environment}",
        *host_build_volumes(),
        "--tag",
        name,
        str(REPO),
    )
    try:
        container = buildah("from", "--name", f"spaceport-test-{name.rsplit(':', 1)[1]}", name).strip()
        try:
            yield BuiltImage(name=name, container=container)
        finally:
            buildah("rm", container)
    finally:
        buildah("rmi", name)
