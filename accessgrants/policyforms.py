"""The forms of the policy pages; what is allowed is decided by :mod:`accessgrants.identitypolicies`."""

from __future__ import annotations

import json
from typing import Any

from django import forms

from accessgrants.policies.actions import ACTIONS
from portal.web.formkit import DomainForm

EXAMPLE = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "ReadSpace",
            "Effect": "Allow",
            "Action": ["s3:Get*", "s3:ListBucket"],
            "Resource": ["<bucket>", "<bucket>/*"],
        }
    ],
}


class PolicyForm(DomainForm):
    name = forms.CharField(max_length=128, help_text="Letters, digits and + = , . @ _ - ; unique in the organization.")
    description = forms.CharField(max_length=1000, required=False)
    document = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "false", "class": "code-input"}),
        help_text="IAM JSON: Version and Statement. "
        "A space is the bucket <code>&lt;organization&gt;-&lt;space&gt;</code>.",
    )

    @staticmethod
    def initial_for(policy: Any) -> dict[str, Any]:
        return {
            "name": policy.name,
            "description": policy.description,
            "document": json.dumps(policy.document, indent=2),
        }


class AttachmentForm(DomainForm):
    user = forms.EmailField(required=False, help_text="A person of the organization, by e-mail address.")
    group = forms.CharField(required=False, max_length=150, help_text="Or a group holding a role in the organization.")


class SubjectForm(DomainForm):
    """Who asks: a person by e-mail address, or one of the organization's S3 access keys."""

    user = forms.EmailField(required=False, help_text="Whose policies and roles to ask.")
    access_key = forms.CharField(
        required=False,
        max_length=20,
        label="Or access key",
        help_text="An access key id of the organization: its owner's answer, while the key is usable.",
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        user, access_key = cleaned.get("user"), (cleaned.get("access_key") or "").strip()
        cleaned["access_key"] = access_key
        if user and access_key:
            self.add_error("access_key", "Name the person or the access key, not both.")
        elif not user and not access_key and "user" not in self.errors:
            self.add_error("user", "Name the person or the access key.")
        return cleaned


class SimulationForm(SubjectForm):
    action = forms.ChoiceField(choices=[(name, name) for name in sorted(ACTIONS)], initial="s3:GetObject")
    resource = forms.CharField(
        help_text="<code>&lt;bucket&gt;/&lt;key&gt;</code> or its ARN; the bucket alone for bucket actions."
    )
    source_ip = forms.GenericIPAddressField(required=False, label="Source IP")
    time = forms.DateTimeField(required=False, help_text="aws:CurrentTime, e.g. 2027-01-05 09:00 (UTC); now if empty.")
    secure = forms.BooleanField(required=False, initial=True, label="Over TLS (aws:SecureTransport)")


class SpaceTableForm(SubjectForm):
    space = forms.ChoiceField(choices=[])
    key = forms.CharField(required=False, initial="*", help_text="The object key object actions are asked about.")

    def __init__(self, *args: Any, spaces: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["space"].choices = [(name, name) for name in spaces]  # type: ignore[attr-defined]
