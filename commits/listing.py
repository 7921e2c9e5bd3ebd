"""Listing a commit's root directory with its folders side by side.

A flat listing is one request after another, a thousand keys each, and each request waits for the
store: on AWS a page takes 100 to 300 ms, so a million objects take minutes to list before the last
can move, and a store that works out ETags as it lists (``rclone serve s3`` hashes each file) holds
the first page back for as long as its largest files take to read. The root is therefore listed one
level deep first: the objects directly under it, and its folders. The folders are then listed
flat, up to ``LANES`` at once, and their pages handed on as they arrive, so the small files of one
folder move while another is still being listed.

A root of more than ``MAX_FOLDERS`` folders (say, one folder per object) has what lies inside its
folders listed flat instead: one request per folder would cost more than it saves. Stores that
cannot list by delimiter are listed flat. Either way every object under the root is listed once,
whatever order the store lists in.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator

from connections.storage import Folder, Location, StorageClient, StoredObject

LANES = 4
MAX_FOLDERS = 256
# Pages waiting for the planner, per lane: enough to keep the lanes listing while a page is recorded.
PAGES_PER_LANE = 2
PUT_SECONDS = 0.5

# What a lane sends: a page of objects, its end (None), or the failure that ended it.
Sent = list[StoredObject] | BaseException | None


def listed(client: StorageClient, location: Location, prefix: str, page: int = 1000) -> Iterator[StoredObject]:
    """Every object under ``location.prefix + prefix``; folders are listed side by side."""
    try:
        level = client.list_level(location, prefix)
    except NotImplementedError:
        yield from client.list_objects(location, prefix)
        return
    folders: list[str] = []
    for entry in level:
        if isinstance(entry, Folder):
            folders.append(entry.key)
        else:
            yield entry
        if len(folders) > MAX_FOLDERS:
            yield from (entry for entry in level if isinstance(entry, StoredObject))
            yield from _inside_folders(client, location, prefix)
            return
    yield from _side_by_side(client, location, folders, page)


def _inside_folders(client: StorageClient, location: Location, prefix: str) -> Iterator[StoredObject]:
    """A flat listing of the root less the objects directly under it, which the one-level listing gives."""
    start = len(location.key(prefix))
    for stored in client.list_objects(location, prefix):
        if "/" in stored.key[start:]:
            yield stored


def _side_by_side(client: StorageClient, location: Location, folders: list[str], page: int) -> Iterator[StoredObject]:
    """The folders listed flat by up to ``LANES`` threads; pages are yielded in the order they arrive."""
    if not folders:
        return
    waiting = queue.SimpleQueue[str]()
    for folder in folders:
        waiting.put(folder)
    lanes = min(LANES, len(folders))
    pages: queue.Queue[Sent] = queue.Queue(maxsize=lanes * PAGES_PER_LANE)
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=_lane, args=(client, location, waiting, pages, stop, page), name="commit-listing", daemon=True
        )
        for _ in range(lanes)
    ]
    for thread in threads:
        thread.start()
    try:
        running = lanes
        while running:
            sent = pages.get()
            if sent is None:
                running -= 1
            elif isinstance(sent, BaseException):
                raise sent
            else:
                yield from sent
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def _lane(
    client: StorageClient,
    location: Location,
    waiting: queue.SimpleQueue[str],
    pages: queue.Queue[Sent],
    stop: threading.Event,
    size: int,
) -> None:
    """List folders until none is left, a page at a time; stop when the reader has gone."""
    start = len(location.prefix)
    try:
        while not stop.is_set():
            try:
                folder = waiting.get_nowait()
            except queue.Empty:
                break
            batch: list[StoredObject] = []
            for stored in client.list_objects(location, folder[start:]):
                batch.append(stored)
                if len(batch) >= size:
                    if not _put(pages, batch, stop):
                        return
                    batch = []
            if batch and not _put(pages, batch, stop):
                return
        _put(pages, None, stop)
    except BaseException as exc:  # handed to the reader, which raises it in the planner's thread
        _put(pages, exc, stop)


def _put(pages: queue.Queue[Sent], sent: Sent, stop: threading.Event) -> bool:
    """Hand ``sent`` to the reader; False when the reader stopped listening."""
    while not stop.is_set():
        try:
            pages.put(sent, timeout=PUT_SECONDS)
            return True
        except queue.Full:
            continue
    return False
