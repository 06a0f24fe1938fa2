from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0004_handoff_moves_to_inbox"),
        ("inbox", "0004_handoff_moves_to_inbox"),
    ]

    operations = [
        migrations.AlterModelTable(name="handoff", table=None),
        migrations.RenameIndex(
            model_name="handoff",
            new_name="handoff_workspace_status_idx",
            old_name="conversatio_workspa_c751c0_idx",
        ),
    ]
