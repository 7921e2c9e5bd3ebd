"""The clouds the wizard offers first, with the words and marks that let IT recognise theirs."""

from __future__ import annotations

from dataclasses import dataclass

from connections.providers.registry import PROVIDERS, methods_of
from connections.providers.spec import MethodSpec


@dataclass(frozen=True)
class MethodChoice:
    spec: MethodSpec

    @property
    def asks(self) -> str:
        """What the customer will have to hand over, so the choice is made knowing the work."""
        return ", ".join(item.label[0].lower() + item.label[1:] for item in self.spec.fields if item.required)


@dataclass(frozen=True)
class Cloud:
    provider: str
    name: str
    mark: str
    description: str

    @property
    def methods(self) -> list[MethodChoice]:
        """Recommended methods first: the order is advice."""
        return [MethodChoice(spec) for spec in sorted(methods_of(self.provider), key=lambda spec: not spec.recommended)]

    @property
    def gives_external_id(self) -> bool:
        """Some method creates its ExternalId with the draft, so the wizard says so before the choice."""
        return any(spec.uses_external_id for spec in methods_of(self.provider))


def clouds() -> list[Cloud]:
    """Every registered cloud's tile, in the registry's order."""
    return [
        Cloud(key, descriptor.tile.name, descriptor.tile.mark, descriptor.tile.description)
        for key, descriptor in PROVIDERS.items()
    ]


def cloud_of(provider: str) -> Cloud | None:
    return next((cloud for cloud in clouds() if cloud.provider == provider), None)
