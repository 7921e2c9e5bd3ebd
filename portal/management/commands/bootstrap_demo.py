"""Create the demo platform admin and a demo organization, and print the login."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from portal.tenancy.changes import create_organization, create_space
from portal.tenancy.grants import Grant, Role, Scope
from portal.tenancy.models import Confidentiality

DEMO_EMAIL = "admin@spaceport.local"
DEMO_MEMBER_EMAIL = "ada@spaceport.local"


class Command(BaseCommand):
    help = "Create a demo platform admin and a demo organization (idempotent) and print the login."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--url", default="http://127.0.0.1:8000/", help="where the portal answers")

    def handle(self, *args: Any, **options: Any) -> None:
        password_file = Path(settings.VAR_DIR) / "demo-login.txt"
        password_file.parent.mkdir(parents=True, exist_ok=True)
        if password_file.exists():
            password = password_file.read_text().strip()
        else:
            password = secrets.token_urlsafe(12)
            password_file.write_text(password + "\n")
            password_file.chmod(0o600)
        with transaction.atomic():
            admin = self._user(DEMO_EMAIL, password, superuser=True)
            member = self._user(DEMO_MEMBER_EMAIL, password, superuser=False)
            self._organization(admin, member)
        self.stdout.write(
            self.style.SUCCESS(
                f"\n  Spaceport is starting at {options['url']}\n"
                f"  Platform admin: {DEMO_EMAIL}  password: {password}\n"
                f"  Demo member:    {DEMO_MEMBER_EMAIL}  password: {password}\n"
            )
        )

    def _user(self, email: str, password: str, *, superuser: bool) -> Any:
        user_model = get_user_model()
        user, _ = user_model.objects.get_or_create(
            username=email, defaults={"email": email, "is_staff": superuser, "is_superuser": superuser}
        )
        user.set_password(password)
        user.save()
        EmailAddress.objects.update_or_create(user=user, email=email, defaults={"verified": True, "primary": True})
        return user

    def _organization(self, admin: Any, member: Any) -> None:
        from portal.tenancy.models import Organization

        if Organization.objects.filter(name="demo").exists():
            return
        organization = create_organization(
            name="demo",
            display_name="Demo Organization",
            description="A sample organization with a few spaces.",
            confidentiality=Confidentiality.INTERNAL,
            owner=admin,
        )
        raw = create_space(organization, name="raw-data", description="Measurements as they arrive.")
        reports = create_space(
            organization, name="reports", description="Published reports.", confidentiality=Confidentiality.PUBLIC
        )
        Grant.objects.create(user=member, scope=Scope.ORGANIZATION, role=Role.ACCESS, organization=organization)
        Grant.objects.create(user=member, scope=Scope.SPACE, role=Role.SUPPLIER, organization=organization, space=raw)
        Grant.objects.create(user=member, scope=Scope.SPACE, role=Role.USER, organization=organization, space=reports)
