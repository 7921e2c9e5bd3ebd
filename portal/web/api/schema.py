"""The OpenAPI description's own parts: Spaceport's error answers (:mod:`portal.auth` describes its schemes)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import ResolvedComponent

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error the API answers has this shape.",
    "properties": {
        "error": {"type": "string", "description": "A short code, such as invalid, not_found or permission_denied."},
        "message": {"type": "string", "description": "One sentence for people."},
        "fields": {
            "type": "object",
            "description": "For invalid input: the messages for each field at fault ('body' for the body itself).",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["error", "message", "fields"],
}
ERROR_DESCRIPTIONS = {
    "400": "Invalid input; `fields` names what is wrong. Nothing was changed.",
    "401": "No valid credentials were sent.",
    "403": "The caller may not do this.",
    "404": "No such object, or the caller may not see it.",
    "413": "The request body is too large.",
}


class PortalAutoSchema(AutoSchema):
    """Documents the error answers next to the successful ones, all in the one error shape."""

    def _error_codes(self) -> list[str]:
        writes = self.method in ("POST", "PUT", "PATCH")
        codes = ["401", "403"]
        if writes or self._is_list_view():
            codes.append("400")
        if "{" in self.path:
            codes.append("404")
        if writes:
            codes.append("413")
        return sorted(codes)

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        component = ResolvedComponent(
            name="ApiError", type=ResolvedComponent.SCHEMA, object="ApiError", schema=ERROR_SCHEMA
        )
        self.registry.register_on_missing(component)
        for code in self._error_codes():
            responses.setdefault(
                code,
                {"content": {"application/json": {"schema": component.ref}}, "description": ERROR_DESCRIPTIONS[code]},
            )
        return responses
