"""Import batches become jobs of tracker/jobs.py: who holds a batch (``claimed_by``) and a queued
status of the apply phase of its own (``apply_queued``).

Until now a requested import waited as "applying" with no attempt counted yet (the request reset
``attempts`` to 0, the worker counted one as it started). Those rows are queued for the apply, so
they move to "apply_queued"; "applying" rows with an attempt counted were being imported and stay.
"""

from django.db import migrations, models


def queued_applies_get_their_status(apps, schema_editor):
    ImportBatch = apps.get_model("study", "ImportBatch")
    ImportBatch.objects.filter(status="applying", attempts=0).update(status="apply_queued")


def back_to_applying(apps, schema_editor):
    ImportBatch = apps.get_model("study", "ImportBatch")
    ImportBatch.objects.filter(status="apply_queued").update(status="applying", attempts=0)


class Migration(migrations.Migration):
    dependencies = [
        ("study", "0007_import_heartbeat"),
    ]

    operations = [
        migrations.AddField(
            model_name="importbatch",
            name="claimed_by",
            field=models.CharField(blank=True, max_length=200),
        ),
        migrations.AlterField(
            model_name="importbatch",
            name="status",
            field=models.CharField(
                choices=[
                    ("queued", "waiting to be checked"),
                    ("validating", "checking"),
                    ("validated", "checked (dry run)"),
                    ("failed", "refused"),
                    ("apply_queued", "waiting to be imported"),
                    ("applying", "importing"),
                    ("applied", "imported"),
                ],
                default="queued",
                max_length=20,
            ),
        ),
        migrations.RunPython(queued_applies_get_their_status, back_to_applying),
    ]
