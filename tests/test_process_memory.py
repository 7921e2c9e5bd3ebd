"""What a process keeps in its own memory: one kind of map, bounded, and saying why where it holds secrets."""

from __future__ import annotations

import accessgrants.keysecrets
import accessgrants.vending.issuing
import accessgrants.vending.plans
import connections.providers.azure.vendor
import connections.providers.registry
import connections.providers.s3.presigned
import gateway.buckets
import gateway.sigv4
import gateway.upstream
import portal.auth.bearer
import portal.core.snapshots
from portal.core.cache import ProcessMemory, forget_process_memories, process_memories

HOLDING_SECRETS = {
    "storage clients",
    "presigning clients",
    "Azure user delegation keys",
    "issued credentials",
    "vend plans",
    "access key secrets",
    "gateway upstreams",
    "SigV4 signing keys",
}


def test_the_least_recently_used_entry_goes_first() -> None:
    memory: ProcessMemory[str, int] = ProcessMemory("test entries", entries=2)
    memory.put("a", 1)
    memory.put("b", 2)
    assert memory.get("a") == 1
    memory.put("c", 3)

    assert (memory.get("a"), memory.get("b"), memory.get("c")) == (1, None, 3)
    assert len(memory) == 2


def test_every_map_is_bounded_and_those_holding_secrets_say_why() -> None:
    modules = (
        portal.core.snapshots,
        connections.providers.azure.vendor,
        accessgrants.vending.issuing,
        accessgrants.vending.plans,
        accessgrants.keysecrets,
        connections.providers.s3.presigned,
        connections.providers.registry,
        portal.auth.bearer,
        gateway.buckets,
        gateway.sigv4,
        gateway.upstream,
    )
    assert all(module.__name__ for module in modules)
    memories = {memory.name: memory for memory in process_memories()}

    assert {"access snapshots", "issuer key sets", "verified bearer tokens"} | HOLDING_SECRETS <= set(memories)
    assert all(0 < memory.entries <= 4096 for memory in memories.values())
    assert {name for name, memory in memories.items() if memory.secrets} >= HOLDING_SECRETS
    assert not memories["access snapshots"].secrets and not memories["verified bearer tokens"].secrets
    assert not memories["bearer principals"].secrets
    assert not memories["gateway buckets"].secrets and not memories["access key principals"].secrets


def test_everything_kept_can_be_forgotten_at_once() -> None:
    memory: ProcessMemory[str, int] = ProcessMemory("test forgotten", entries=4)
    memory.put("a", 1)

    forget_process_memories()

    assert memory.get("a") is None
