"""Roles become per-study memberships only, and API tokens issued without a second factor end.

Until now a role needed both a global group and (for researchers and the gemeente) a study
membership; data managers and wijkcoaches needed no membership at all. This keeps everyone's
access as it was, in the new form:

- a membership whose user is not in its role's group gave no access: it is made inactive;
- a member of the `datamanager` group becomes data manager of every existing study (they saw
  every study);
- a member of the `wijkcoach` group becomes wijkcoach of every study with a family on their
  caseload (now or before);
- every API token is deleted: all were issued with a password only (the token endpoint asked
  for no second factor). Users request a new one with their authenticator code.

The groups themselves are left in place; they grant nothing any more.
"""

from django.db import migrations

ROLES = ("researcher", "wijkcoach", "gemeente", "datamanager")


def forwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Study = apps.get_model("study", "Study")
    StudyMembership = apps.get_model("study", "StudyMembership")
    CaseloadAssignment = apps.get_model("study", "CaseloadAssignment")
    Token = apps.get_model("authtoken", "Token")

    in_group = {
        role: set(Group.objects.filter(name=role).values_list("user__id", flat=True)) - {None}
        for role in ROLES
    }
    for membership in StudyMembership.objects.filter(active=True).select_related("user"):
        if membership.user.is_superuser:
            continue
        if membership.user_id not in in_group.get(membership.role, set()):
            membership.active = False
            membership.save(update_fields=["active"])
    studies = list(Study.objects.values_list("id", flat=True))
    for user_id in in_group["datamanager"]:
        for study_id in studies:
            _grant(StudyMembership, study_id, user_id, "datamanager")
    coach_studies = CaseloadAssignment.objects.filter(
        coach_id__in=in_group["wijkcoach"]
    ).values_list("coach_id", "family__study_id")
    for user_id, study_id in set(coach_studies):
        _grant(StudyMembership, study_id, user_id, "wijkcoach")
    Token.objects.all().delete()


def _grant(StudyMembership, study_id, user_id, role):
    membership, created = StudyMembership.objects.get_or_create(
        study_id=study_id, user_id=user_id, role=role, defaults={"active": True}
    )
    if not created and not membership.active:
        membership.active = True
        membership.save(update_fields=["active"])


class Migration(migrations.Migration):
    dependencies = [
        ("study", "0010_access_credentials"),
        ("authtoken", "0004_alter_tokenproxy_options"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
