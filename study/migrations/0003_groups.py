"""Create the four role groups."""

from django.db import migrations

ROLES = ["researcher", "wijkcoach", "gemeente", "datamanager"]


def create_groups(apps, schema_editor):
    group = apps.get_model("auth", "Group")
    for name in ROLES:
        group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("study", "0002_seed_indicator_catalogue"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
