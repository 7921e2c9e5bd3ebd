"""The wizard's details form, generated from the method's :class:`~connections.methods.MethodSpec`.

The form only converts what the browser sends; the domain's checks decide what is valid, so the
page, the API and the admin refuse the same input with the same words. Secret inputs are never
filled in, and uploads are bounded before they are read.
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from django import forms
from django.core.files.uploadedfile import InMemoryUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.utils.html import escape

from connections.inputs import MAX_UPLOAD_BYTES, pem_certificate_with_key
from connections.models import CloudConnection
from connections.providers.spec import ConnectionInputError, FieldSpec
from portal.web.formkit import refuse_instead_of_truncating

RESERVED_NAMES = frozenset({"new"})
NAME_HELP = "3 to 63 lowercase letters, digits and hyphens; it names the connection in the API and the audit trail."


class BoundedUploadHandler(FileUploadHandler):
    """Keeps at most 64 KiB of each uploaded file and counts the rest, so an oversized upload is
    refused by its size without ever being held in memory or on disk."""

    def new_file(self, *args: Any, **kwargs: Any) -> None:
        super().new_file(*args, **kwargs)
        self.kept = BytesIO()
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> None:
        room = MAX_UPLOAD_BYTES + 1 - self.received
        if room > 0:
            self.kept.write(raw_data[:room])
        self.received += len(raw_data)

    def file_complete(self, file_size: int) -> UploadedFile:
        self.kept.seek(0)
        return InMemoryUploadedFile(
            file=self.kept,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=self.received,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )


def _accept(item: FieldSpec) -> str:
    return (
        ".pem,.crt,.key,application/x-pem-file" if item.check is pem_certificate_with_key else ".json,application/json"
    )


def _help(item: FieldSpec, *, stored: bool) -> str:
    parts: list[str] = [escape(item.help)] if item.help else []
    if item.kind == "file":
        parts.append("Up to 64 KiB.")
    if stored:
        parts.append(
            "A value is stored, encrypted. Leave this empty to keep it."
            if item.secret
            else "A file is stored. Leave this empty to keep it."
        )
    elif item.secret:
        parts.append("Stored encrypted and never shown again.")
    return " ".join(parts)


def _form_field(item: FieldSpec, *, stored: bool) -> forms.Field:
    field = _typed_field(item, {"label": item.label, "required": False, "help_text": _help(item, stored=stored)})
    field.show_optional = not item.required  # type: ignore[attr-defined]
    return field


def _typed_field(item: FieldSpec, common: dict[str, Any]) -> forms.Field:
    field: forms.Field
    if item.kind == "password":
        widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password", "spellcheck": "false"})
        field = forms.CharField(widget=widget, strip=False, **common)
    elif item.kind == "file":
        field = forms.FileField(widget=forms.FileInput(attrs={"accept": _accept(item)}), **common)
    elif item.kind == "choice":
        field = forms.ChoiceField(choices=item.options(), **common)
    elif item.kind == "bool":
        field = forms.BooleanField(**common)
    else:
        attrs = {"autocomplete": "off", "spellcheck": "false"}
        field = forms.CharField(widget=forms.TextInput(attrs=attrs), **common)
    return field


class ConnectionDetailsForm(forms.Form):
    """The connection's name and every field of its method, checked by the domain on save."""

    name = forms.CharField(max_length=63, label="Connection name", help_text=NAME_HELP)

    def __init__(self, *args: Any, connection: CloudConnection, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.connection = connection
        self.spec = connection.spec
        config = connection.config or {}
        stored_secrets = set(connection.secret_field_names)
        self.initial.setdefault("name", connection.name)
        for item in self.spec.fields:
            stored = item.name in stored_secrets if item.secret else (item.kind == "file" and item.name in config)
            self.fields[item.name] = _form_field(item, stored=stored)
            if not item.secret and item.kind != "file":
                self.initial.setdefault(item.name, config.get(item.name, item.initial()))
        refuse_instead_of_truncating(self)

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if name in RESERVED_NAMES:
            raise forms.ValidationError(f"{name!r} is reserved; choose another name.")
        return name

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        for item in self.spec.fields:
            if item.kind != "file":
                continue
            upload = cleaned.get(item.name)
            if not upload:
                continue
            if upload.size > MAX_UPLOAD_BYTES:
                self.add_error(item.name, f"This file is {upload.size // 1024} KiB; files may be at most 64 KiB.")
                continue
            try:
                cleaned[item.name] = upload.read(MAX_UPLOAD_BYTES + 1).decode("utf-8")
            except UnicodeDecodeError:
                self.add_error(item.name, "This file is not text; upload the JSON or PEM file itself.")
        return cleaned

    def values(self) -> dict[str, Any]:
        """The method's fields as the domain takes them: empty secrets and files keep what is stored."""
        config = self.connection.config or {}
        values: dict[str, Any] = {}
        for item in self.spec.fields:
            value = self.cleaned_data.get(item.name)
            if item.kind == "file" and not value and not item.secret and item.name in config:
                value = config[item.name]
            values[item.name] = value if value is not None else ""
        return values

    def add_input_error(self, error: ConnectionInputError) -> None:
        """Show each of the domain's complaints next to the field it names, or above the form."""
        for name, message in error.errors.items():
            self.add_error(name if name in self.fields else None, message)
