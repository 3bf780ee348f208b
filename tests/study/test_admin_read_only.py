"""The admin looks things up: the audited study models are read-only, nothing is hard-deleted,
the concealed allocation state is not there at all."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse

from study import models

pytestmark = pytest.mark.django_db

AUDITED = [
    models.Study,
    models.Arm,
    models.StudyMembership,
    models.Family,
    models.Wave,
    models.IndicatorValue,
    models.CaseloadAssignment,
    models.NotesGrant,
    models.Professional,
    models.ImportBatch,
    models.AllocationRecord,
]


@pytest.fixture
def superuser_client(client, settings):
    settings.OTP_REQUIRED = False
    user = get_user_model().objects.create_superuser("root", "root@example.nl", "pw-x-123456")
    client.force_login(user)
    return client


@pytest.mark.parametrize("model", AUDITED, ids=lambda m: m.__name__)
def test_audited_models_are_read_only(model, superuser_client, family):
    model_admin = admin.site._registry[model]
    request = type("R", (), {"user": get_user_model().objects.get(username="root")})()
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    assert superuser_client.get(reverse(f"{name}_changelist")).status_code == 200


def test_a_family_cannot_be_changed_or_deleted_from_the_admin(superuser_client, family):
    change = reverse("admin:study_family_change", args=[family.pk])
    response = superuser_client.post(change, {"pseudonym": "G-HACKED", "wijk": "x"})
    assert response.status_code == 403
    delete = reverse("admin:study_family_delete", args=[family.pk])
    assert superuser_client.post(delete, {"post": "yes"}).status_code == 403
    family.refresh_from_db()
    assert family.pseudonym != "G-HACKED" and not family.is_deleted


def test_users_are_not_deleted_and_the_allocation_state_is_not_in_the_admin(
    superuser_client, researcher
):
    request = type("R", (), {"user": researcher})()
    assert not admin.site._registry[get_user_model()].has_delete_permission(request)
    assert models.AllocationStratum not in admin.site._registry
    assert "delete_selected" not in dict(admin.site.actions)


def test_a_study_has_no_add_form(superuser_client):
    assert superuser_client.get(reverse("admin:study_study_add")).status_code == 403


def test_every_model_has_a_translated_name():
    from django.apps import apps
    from django.utils.functional import Promise

    unnamed = [
        m.__name__
        for m in apps.get_models()
        if m._meta.app_label in {"study", "analysis", "instruments", "costs", "monitor"}
        and not m.__name__.startswith("Historical")
        and not isinstance(m._meta.original_attrs.get("verbose_name"), Promise)
    ]
    assert unnamed == []


@pytest.mark.django_db
def test_the_user_page_shows_roles_per_study_not_groups(superuser_client):
    from django.contrib.auth.models import Group

    from study.roles import Role
    from study.services.studies import membership_grant
    from tests.factories import make_study

    client = superuser_client
    person = get_user_model().objects.create_user("onderzoeker2")
    person.groups.add(Group.objects.get_or_create(name="researcher")[0])
    membership_grant(study=make_study(), user=person, role=Role.RESEARCHER)
    page = client.get(f"/admin/auth/user/{person.pk}/change/", HTTP_ACCEPT_LANGUAGE="en")
    text = page.content.decode()
    assert page.status_code == 200
    assert "Roles per study" in text and "Researcher" in text
    assert 'name="groups"' not in text
    assert client.get("/admin/auth/group/").status_code == 404
