from __future__ import annotations

import os
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from supportops.accounts.models import Membership, Role, Workspace
from supportops.accounts.services import workspace_create
from supportops.conversations.demo import demo_customers_seed, demo_history_seed
from supportops.knowledge.importing import items_write, parse_path
from supportops.knowledge.models import Article
from supportops.lib.commands import print_json

DEMO_SLUG = "tidewell"
DEMO_NAME = "Tidewell Outdoor"
CONTENT = Path(__file__).resolve().parents[3] / "knowledge" / "demo_content" / "articles"
DEMO_USERS = [
    ("admin@tidewell.example", Role.ADMIN),
    ("manager@tidewell.example", Role.MANAGER),
    ("agent@tidewell.example", Role.AGENT),
    ("finance@tidewell.example", Role.FINANCE),
]


def demo_password() -> str:
    """One generated password for the demo users, kept in var/ so restarts reuse it."""
    path = settings.VAR_DIR / "demo-login.txt"
    if path.exists():
        return path.read_text().strip()
    password = secrets.token_urlsafe(12)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(password + "\n")
    path.chmod(0o600)
    return password


def _widget_defaults(workspace: Workspace) -> None:
    """Let the demo widget run on the local server's own pages."""
    from supportops.widget.models import WidgetSettings

    port = os.environ.get("PORT", "8000")
    WidgetSettings.objects.get_or_create(
        workspace=workspace,
        defaults={
            "allowed_origins": [f"http://localhost:{port}", f"http://127.0.0.1:{port}"],
            "title": "Tidewell help",
        },
    )


class Command(BaseCommand):
    help = "Create the demo workspace, its users and help-centre articles (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        password = demo_password()
        with transaction.atomic():
            workspace = Workspace.objects.filter(slug=DEMO_SLUG).first()
            if workspace is None:
                workspace = workspace_create(name=DEMO_NAME, slug=DEMO_SLUG)
            User = get_user_model()
            for email, role in DEMO_USERS:
                user = User.objects.filter(email=email).first()
                if user is None:
                    user = User.objects.create_user(username=email, email=email, password=password)
                    if role == Role.ADMIN:
                        user.is_staff = user.is_superuser = True
                        user.save(update_fields=["is_staff", "is_superuser"])
                Membership.objects.get_or_create(
                    user=user, workspace=workspace, defaults={"role": role}
                )
        imported = 0
        if not Article.objects.filter(workspace=workspace).exists() and CONTENT.exists():
            items = parse_path(CONTENT)
            items_write(workspace=workspace, items=items, publish=True, embed="now")
            imported = len(items)
        orders = demo_customers_seed(workspace=workspace)
        _widget_defaults(workspace)
        conversations = demo_history_seed(workspace=workspace)
        result = {
            "workspace": workspace.slug,
            "orders_created": orders,
            "conversations_created": conversations,
            "articles_imported": imported,
            "articles": Article.objects.filter(workspace=workspace).count(),
            "login": {"email": DEMO_USERS[0][0], "password": password},
            "other_users": [email for email, _ in DEMO_USERS[1:]],
        }
        if opts["json"]:
            print_json(result, self.stdout)
        else:
            self.stdout.write(
                f"Demo workspace {workspace.name}: {result['articles']} articles "
                f"({imported} imported now)."
            )
