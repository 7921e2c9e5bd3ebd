"""JSON bodies with Django's size limit and a nesting limit applied."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from portal.web.jsonlimits import JsonTooDeep, check_text_depth


class BoundedJSONParser(JSONParser):
    """DRF reads the body as a stream, past ``DATA_UPLOAD_MAX_MEMORY_SIZE``; this applies the limit again.

    Reading one byte beyond the limit is enough to tell, so an oversized body is never held in memory.
    A body nesting deeper than :data:`portal.web.jsonlimits.MAX_JSON_DEPTH` is refused before parsing, so
    it answers 400 instead of failing with a RecursionError.
    """

    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if stream is not None:
            body = stream.read() if limit is None else stream.read(limit + 1)
            if limit is not None and len(body) > limit:
                raise RequestDataTooBig("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")
            try:
                check_text_depth(body)
            except JsonTooDeep as exc:
                raise ParseError(f"JSON parse error - {exc}") from None
            stream = io.BytesIO(body)
        return super().parse(stream, media_type, parser_context)
