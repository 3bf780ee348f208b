"""The catalogue file now tags every indicator repeated care (F2) reads with F2 (probation,
child protection, GGZ and addiction care, not only three youth-care codes): existing databases
take the global indicators' ``research_questions`` from the file again. Nothing else changes."""

from django.db import migrations


def question_tags_from_the_file(apps, schema_editor):
    from study.catalogue import catalogue_specs

    Indicator = apps.get_model("study", "Indicator")
    for spec in catalogue_specs():
        Indicator.objects.filter(study__isnull=True, code=spec.code).update(
            research_questions=spec.research_questions
        )


class Migration(migrations.Migration):
    dependencies = [
        ("study", "0008_import_batch_jobs"),
    ]

    operations = [
        migrations.RunPython(question_tags_from_the_file, migrations.RunPython.noop),
    ]
