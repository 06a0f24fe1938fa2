# Handoff moves from conversations to inbox (which owns its behaviour). The table stays;
# this step only changes Django's state, 0005 renames the table.
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("conversations", "0003_followup_email"),
        ("inbox", "0003_business_hours"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Handoff",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("trigger", models.CharField(max_length=32)),
                        ("reason", models.CharField(max_length=300)),
                        ("scores", models.JSONField(blank=True, default=dict)),
                        ("packet", models.JSONField(blank=True, default=dict)),
                        ("status", models.CharField(choices=[("queued", "Queued"), ("assigned", "Assigned"), ("resolved", "Resolved")], default="queued", max_length=16)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("first_human_reply_at", models.DateTimeField(blank=True, null=True)),
                        ("resolved_at", models.DateTimeField(blank=True, null=True)),
                        ("assignee", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to=settings.AUTH_USER_MODEL)),
                        ("conversation", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="handoffs", to="conversations.conversation")),
                        ("workspace", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+", to="accounts.workspace")),
                    ],
                    options={
                        "ordering": ["created_at"],
                        "db_table": "conversations_handoff",
                        "indexes": [models.Index(fields=["workspace", "status", "created_at"], name="conversatio_workspa_c751c0_idx")],
                    },
                ),
                migrations.AlterField(
                    model_name="routing",
                    name="handoff",
                    field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name="routing", to="inbox.handoff"),
                ),
            ],
        ),
    ]
