"""The set-up page sets up a minimisation study (with the notes setting), the enrolment page
then draws by minimisation over district and household and says the arm; the method, the
factors and the notes setting are frozen or free as recorded data needs."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from study import allocation
from study.models import AllocationRecord, Family, Study
from tests.study.views.test_enrol import _data as enrol_data
from tests.study.views.test_setup_pages import SET_UP

pytestmark = pytest.mark.django_db


def test_a_minimisation_study_from_the_pages(client):
    admin = get_user_model().objects.create_superuser("beheer", "b@example.nl", "pw-x-123456")
    client.force_login(admin)
    form = client.get(reverse("study_new")).content.decode()
    assert 'name="randomisation"' in form and 'name="contact_notes_for_research"' in form
    assert 'value="wijk,household"' in form
    response = client.post(
        reverse("study_new"),
        {
            **SET_UP,
            "randomisation": "minimisation",
            "allocation_strata": "wijk,household",
            "contact_notes_for_research": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    study = Study.objects.get(name=SET_UP["name"])
    assert (study.randomisation, study.allocation_strata) == ("minimisation", "wijk,household")
    assert study.contact_notes_for_research is True

    url = reverse("study:family_enrol", args=[study.pk])
    for i, wijk in enumerate(["Noord", "Zuid", "Noord", "Oost"]):
        data = enrol_data(wijk=wijk)
        data.pop("arm"), data.pop("allocation")
        if i % 2:
            data.update({"members-2-role": "adult", "members-2-birth_year": "1982"})
        done = client.post(url, data, follow=True)
        assert "Allocated by randomisation to:" in done.content.decode()
    records = AllocationRecord.objects.filter(study=study).order_by("pk")
    assert [r.stratum for r in records] == ["noord | 1", "zuid | 2+", "noord | 1", "oost | 2+"]
    assert {r.method for r in records} == {allocation.METHOD_MINIMISATION}
    assert all(r.family.arm.kind == r.arm_kind for r in records)
    assert Family.objects.filter(study=study).count() == 4

    edit = reverse("study:study_edit", args=[study.pk])
    current = {
        **SET_UP,
        "randomisation": "minimisation",
        "allocation_strata": "wijk,household",
    }
    frozen = client.post(edit, {**current, "randomisation": "blocks", "reason": "toch blokken"})
    assert frozen.status_code == 400 and "Families are enrolled" in frozen.content.decode()
    # The notes setting may change after enrolment (off: the box left empty), with a reason.
    free = client.post(edit, {**current, "reason": "geen toestemming meer"})
    assert free.status_code == 302, free.content.decode()[:3000]
    study.refresh_from_db()
    assert study.contact_notes_for_research is False and study.randomisation == "minimisation"
