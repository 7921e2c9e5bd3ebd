"""JSON bodies with Django's size limit applied."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from rest_framework.parsers import JSONParser


class BoundedJSONParser(JSONParser):
    """DRF reads the body as a stream, past ``DATA_UPLOAD_MAX_MEMORY_SIZE``; this applies the limit again.

    Reading one byte beyond the limit is enough to tell, so an oversized body is never held in memory.
    """

    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and stream is not None:
            body = stream.read(limit + 1)
            if len(body) > limit:
                raise RequestDataTooBig("Request body exceeded settings.DATA_UPLOAD_MAX_MEMORY_SIZE.")
            stream = io.BytesIO(body)
        return super().parse(stream, media_type, parser_context)
