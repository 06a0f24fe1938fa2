# Handoff now lives in inbox (inbox 0004 took over its state; the table is untouched here).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0003_followup_email"),
        ("inbox", "0004_handoff_moves_to_inbox"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(state_operations=[migrations.DeleteModel(name="Handoff")]),
    ]
