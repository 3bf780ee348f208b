"""The concealed rest of an allocation sequence cannot be read through any door before
enrolment: every page of the URL configuration, every GET operation of the API schema, the
exports, the backup bundle and every admin page.

The stratum's concealed state is overwritten with a canary that no real sequence holds; a door
that showed the state in any form (the list, its length, the blocks drawn) would show the
canary. So are the block number and block size of the revealed allocation, whose block is still
open (its size would tell how many allocations remain): no door shows them either."""

from __future__ import annotations

import json
import re
from datetime import date

import pytest
from django.contrib import admin
from django.test import Client
from rest_framework.test import APIClient

from study import exporting
from study.backup import study_backup
from study.models import AllocationRecord, AllocationStratum, Study
from study.roles import Role
from study.services.allocation import family_enrol_randomised
from study.services.families import MemberSpec
from tests.access_matrix.checks import api_schema, page_url, routes
from tests.factories import ELIGIBLE, make_member, make_study, make_user
from tests.study.append_only import allocation_log_guard_lifted

pytestmark = pytest.mark.django_db

CANARY = "canary-concealed-7f3a"
CANARY_BLOCKS = 987_654_321
CANARY_BLOCK_NUMBER = 876_543_219
CANARY_BLOCK_SIZE = 32_109


@pytest.fixture
def concealed():
    study = make_study(
        municipality="",
        municipality_code="GM0164",
        allocation_method=Study.AllocationMethod.RANDOMISED,
        allocation_strata="wijk",
        enrolment_target=60,
    )
    researcher = make_member(study, Role.RESEARCHER)
    manager = make_member(study, Role.DATA_MANAGER)
    family = family_enrol_randomised(
        study=study,
        intake_date=date(2026, 2, 1),
        eligibility=ELIGIBLE,
        members=[MemberSpec("adult", 1985), MemberSpec("child", 2016)],
        wijk="Noord",
        user=researcher,
    )
    AllocationStratum.objects.filter(study=study).update(
        pending=[CANARY, CANARY], blocks_drawn=CANARY_BLOCKS
    )
    assert AllocationRecord.objects.get(family=family).block_number == 1  # written at enrolment
    with allocation_log_guard_lifted():
        AllocationRecord.objects.filter(family=family).update(
            block_number=CANARY_BLOCK_NUMBER, block_size=CANARY_BLOCK_SIZE
        )
    ids = {
        "studies": study.pk,
        "study": study.pk,
        "families": family.pk,
        "family": family.pk,
        "waves": family.waves.get(index=0).pk,
        "wave": family.waves.get(index=0).pk,
        "members": family.members.order_by("pk").first().pk,
    }
    return study, family, [researcher, manager], ids


def _body(response) -> str:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content).decode("utf-8", "replace")
    return response.content.decode("utf-8", "replace")


def _shows(text: str) -> bool:
    numbers = (CANARY_BLOCKS, CANARY_BLOCK_NUMBER, CANARY_BLOCK_SIZE)
    plain = [str(n) for n in numbers] + [f"{n:,}".replace(",", ".") for n in numbers]
    return CANARY in text or any(n in text for n in plain)


def test_no_page_shows_it(concealed):
    study, _family, people, ids = concealed
    opened = 0
    for user in people:
        client = Client()
        client.force_login(user)
        for route in routes():
            if route.route.startswith(("accounts/logout", "i18n/")):
                continue
            url = page_url(route, ids)
            response = client.get(url)
            assert response.status_code < 500, url
            assert not _shows(_body(response)), f"{url} shows the concealed state"
            opened += response.status_code == 200
    assert opened > 40  # the walk really opened the study's pages


def test_no_api_operation_shows_it(concealed):
    _study, _family, people, ids = concealed
    schema = api_schema()
    answered = 0
    for user in people:
        client = APIClient()
        client.force_authenticate(user)
        for path, operations in schema["paths"].items():
            if "get" not in operations:
                continue
            resource = path.strip("/").split("/")[1]
            url = re.sub(r"\{(\w+)\}", str(ids.get(resource, ids["families"])), path)
            response = client.get(url)
            assert response.status_code < 500, url
            assert not _shows(_body(response)), f"{url} shows the concealed state"
            answered += response.status_code == 200
    assert answered > 20
    assert not _shows(json.dumps(schema))


def test_no_export_or_backup_shows_it(concealed):
    study, _family, people, _ids = concealed
    csv = b"".join(exporting.export_csv_stream(study, study.families.all())).decode()
    assert not _shows(csv)
    client = Client()
    client.force_login(people[0])
    for fmt in ("csv", "xlsx", "sav", "dta"):
        response = client.get(f"/studies/{study.pk}/export/{fmt}/")
        assert response.status_code == 200, fmt
        assert CANARY.encode() not in b"".join(response.streaming_content)
    bundle = json.dumps(study_backup(study=study), default=str)
    assert not _shows(bundle)
    assert "allocationstratum" not in bundle
    (row,) = [o for o in json.loads(bundle)["objects"] if o["model"] == "study.allocationrecord"]
    assert row["fields"]["block_number"] is None and row["fields"]["block_size"] is None


def test_no_admin_page_shows_it(concealed):
    _study, family, _people, _ids = concealed
    client = Client()
    root = make_user(None, username="root")
    root.is_superuser = root.is_staff = True
    root.save(update_fields=["is_superuser", "is_staff"])
    client.force_login(root)
    assert AllocationStratum not in admin.site._registry
    pages = ["/admin/"]
    for model in admin.site._registry:
        meta = model._meta
        pages.append(f"/admin/{meta.app_label}/{meta.model_name}/")
    pages.append(f"/admin/study/family/{family.pk}/change/")
    pages.append(f"/admin/study/allocationrecord/{family.allocation_record.pk}/change/")
    for url in pages:
        response = client.get(url)
        assert response.status_code < 500, url
        assert not _shows(_body(response)), f"{url} shows the concealed state"
