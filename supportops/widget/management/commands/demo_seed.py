from __future__ import annotations

import os
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from supportops import flows
from supportops.accounts.demo import DEMO_NAME, DEMO_SLUG, DEMO_USERS, demo_password
from supportops.accounts.models import Membership, Workspace
from supportops.accounts.services import workspace_create
from supportops.bot.demo import demo_categories_seed
from supportops.conversations.demo import CUSTOMERS, HISTORY, demo_customers_seed
from supportops.conversations.models import Conversation, Customer
from supportops.knowledge.importing import items_write, parse_path
from supportops.knowledge.models import Article
from supportops.lib.commands import print_json
from supportops.widget.models import WidgetSettings

CONTENT = Path(settings.BASE_DIR) / "supportops" / "knowledge" / "demo_content" / "articles"


def _widget_defaults(workspace: Workspace) -> None:
    """Let the demo widget run on the local server's own pages."""
    port = os.environ.get("PORT", "8000")
    WidgetSettings.objects.get_or_create(
        workspace=workspace,
        defaults={
            "allowed_origins": [f"http://localhost:{port}", f"http://127.0.0.1:{port}"],
            "title": "Tidewell help",
        },
    )


def demo_history_seed(*, workspace: Workspace) -> int:
    """A few conversations run through the real bot turn, so the queue is not empty."""
    if Conversation.objects.filter(workspace=workspace).exists():
        return 0
    customers = {c.external_id: c for c in Customer.objects.filter(workspace=workspace)}
    for index, texts in HISTORY:
        customer = customers.get(CUSTOMERS[index][0])
        if customer is None:
            continue
        conversation = flows.do_conversation_start(
            workspace=workspace, customer=customer
        ).conversation
        for text in texts:
            message = flows.do_customer_message(
                conversation=conversation, text=text, queue_bot=False
            ).message
            flows.do_bot_turn(message_id=message.pk)
    return len(HISTORY)


def demo_users_seed(*, workspace: Workspace, password: str) -> None:
    """The demo's members, one per role. None of them is staff: the Django admin is for
    operators only (`manage.py createsuperuser`), never for a login printed on the console,
    also on demo data seeded by an older version."""
    User = get_user_model()
    for email, role in DEMO_USERS:
        user = User.objects.filter(email=email).first()
        if user is None:
            user = User.objects.create_user(username=email, email=email, password=password)
        User.objects.filter(pk=user.pk).update(is_staff=False, is_superuser=False)
        Membership.objects.get_or_create(user=user, workspace=workspace, defaults={"role": role})


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
            demo_users_seed(workspace=workspace, password=password)
        imported = 0
        if not Article.objects.filter(workspace=workspace).exists() and CONTENT.exists():
            items = parse_path(CONTENT)
            items_write(workspace=workspace, items=items, publish=True, embed="now")
            imported = len(items)
        orders = demo_customers_seed(workspace=workspace)
        _widget_defaults(workspace)
        # Categories come before the history, so its conversations are routed by them.
        categories = demo_categories_seed(workspace=workspace)
        conversations = demo_history_seed(workspace=workspace)
        result = {
            "workspace": workspace.slug,
            "orders_created": orders,
            "conversations_created": conversations,
            "articles_imported": imported,
            "categories_created": categories.created,
            "category_examples_added": categories.examples_added,
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
