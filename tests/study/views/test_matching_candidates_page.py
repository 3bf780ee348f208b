"""The candidate-pool page of a matched study: a researcher uploads the pool and sees counts per
intake year (never the keys); a file with a BSN is refused without repeating the number and
changes nothing; a coach gets 404; a randomised study says it has no pool."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from study.models import MatchingCandidate, Study
from study.roles import Role
from tests.factories import make_member, make_study
from tests.otp import login_verified

pytestmark = pytest.mark.django_db

BSN = "123456782"  # passes the 11-proof
POOL = (
    "candidate_key,intake_year,selected,match_set,n_child,bijstand\n"
    "k-001,2024,1,P1,2,1\n"
    "k-002,2024,0,,3,0\n"
    "k-003,2025,1,P2,1,1\n"
)


def _upload(client, study, content: str):
    file = SimpleUploadedFile("pool.csv", content.encode(), content_type="text/csv")
    return client.post(f"/studies/{study.pk}/matching-candidates/", {"file": file})


@pytest.fixture
def matched():
    return make_study(allocation_method=Study.AllocationMethod.MATCHED, match_variables="n_child")


def test_a_researcher_records_the_pool_and_sees_counts_not_keys(client, matched):
    login_verified(client, make_member(matched, Role.RESEARCHER))
    page = client.get(f"/studies/{matched.pk}/matching-candidates/").content.decode()
    assert 'id="candidate-form"' in page and "k-001" not in page
    response = _upload(client, matched, POOL)
    assert response.status_code == 302
    assert MatchingCandidate.objects.filter(study=matched).count() == 3
    page = client.get(response["Location"]).content.decode()
    assert "k-001" not in page and "k-002" not in page
    assert "<td>2024</td>" in page and "<td>2025</td>" in page
    assert "<code>bijstand</code>" in page and "<code>n_child</code>" in page
    # The study page links to it for a matched study.
    detail = client.get(f"/studies/{matched.pk}/").content.decode()
    assert f"/studies/{matched.pk}/matching-candidates/" in detail


def test_a_file_with_a_bsn_is_refused_without_the_number_and_nothing_changes(client, matched):
    login_verified(client, make_member(matched, Role.RESEARCHER))
    assert _upload(client, matched, POOL).status_code == 302
    response = _upload(client, matched, POOL.replace("k-002", BSN))
    page = response.content.decode()
    assert response.status_code == 200 and 'role="alert"' in page
    assert BSN not in page
    assert set(
        MatchingCandidate.objects.filter(study=matched).values_list("candidate_key", flat=True)
    ) == {"k-001", "k-002", "k-003"}


def test_a_coach_gets_404_and_a_randomised_study_has_no_pool(client, matched):
    login_verified(client, make_member(matched, Role.WIJKCOACH))
    assert client.get(f"/studies/{matched.pk}/matching-candidates/").status_code == 404
    randomised = make_study(
        allocation_method=Study.AllocationMethod.RANDOMISED, name="R", enrolment_target=40
    )
    client.logout()
    login_verified(client, make_member(randomised, Role.RESEARCHER, "r2"))
    page = client.get(f"/studies/{randomised.pk}/matching-candidates/").content.decode()
    assert 'id="candidate-form"' not in page
    assert _upload(client, randomised, POOL).status_code == 200
    assert not MatchingCandidate.objects.exists()
