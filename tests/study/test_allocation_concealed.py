"""The concealed rest of the allocation sequence is not readable before enrolment: not in a
backup bundle, the admin, the API schema, an export or any page the researcher opens."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.contrib import admin

from study import exporting
from study.backup import study_backup
from study.models import AllocationRecord, AllocationStratum, Study
from study.roles import Role
from study.services.allocation import family_enrol_randomised
from study.services.families import MemberSpec
from tests.access_matrix.checks import api_schema
from tests.factories import ELIGIBLE, make_member, make_study

pytestmark = pytest.mark.django_db


@pytest.fixture
def enrolled():
    study = make_study(
        municipality="",
        municipality_code="GM0164",
        allocation_method=Study.AllocationMethod.RANDOMISED,
        enrolment_target=60,
    )
    researcher = make_member(study, Role.RESEARCHER)
    # Enrol until the current block has a rest to conceal.
    while True:
        family_enrol_randomised(
            study=study,
            intake_date=date(2026, 2, 1),
            eligibility=ELIGIBLE,
            members=[MemberSpec("adult", 1985), MemberSpec("child", 2016)],
            user=researcher,
        )
        if AllocationStratum.objects.get(study=study).pending:
            return study, researcher


def test_the_backup_bundle_holds_the_log_but_not_the_rest_of_the_block(enrolled):
    study, _researcher = enrolled
    bundle = study_backup(study=study)
    models = {obj["model"] for obj in bundle["objects"]}
    assert "study.allocationrecord" in models
    assert "study.allocationstratum" not in models
    assert "pending" not in json.dumps(bundle)
    assert AllocationRecord.objects.filter(study=study).count() >= 1


def test_the_admin_and_the_api_do_not_know_the_concealed_state(enrolled):
    assert AllocationStratum not in admin.site._registry
    assert "pending" not in json.dumps(api_schema())


def test_the_export_and_the_study_pages_do_not_show_it(enrolled, client):
    study, researcher = enrolled
    pending = AllocationStratum.objects.get(study=study).pending
    csv = b"".join(exporting.export_csv_stream(study, study.families.all())).decode()
    assert "pending" not in csv
    client.force_login(researcher)
    for url in (
        f"/studies/{study.pk}/",
        f"/studies/{study.pk}/enrol/",
        f"/studies/{study.pk}/set-up/",
    ):
        body = client.get(url).content.decode()
        assert "pending" not in body and json.dumps(pending) not in body
