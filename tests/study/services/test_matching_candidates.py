"""The candidate pool of a matched study: recorded by its service (replaced as a whole), read
from CSV after the screening, never with a BSN (nor one in a message), and read by the run."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from analysis.runs.selectors import matching_candidates_frame
from study.imports.problems import ImportFileError
from study.models import MatchingCandidate, Study
from study.services.matching import (
    CandidateSpec,
    candidates_from_csv,
    matching_candidates_record,
)
from tests.factories import make_study

pytestmark = pytest.mark.django_db

BSN = "123456782"  # passes the 11-proof


@pytest.fixture
def matched():
    return make_study(allocation_method=Study.AllocationMethod.MATCHED, match_variables="n_child")


def test_the_pool_is_recorded_replaced_and_read_by_the_run(matched):
    specs = [
        CandidateSpec("a" * 64, 2024, {"n_child": 2, "bijstand": 1}, True, "P1"),
        CandidateSpec("gem-0042", 2024, {"n_child": 3}),
    ]
    assert matching_candidates_record(study=matched, candidates=specs) == 2
    assert matching_candidates_record(study=matched, candidates=specs[1:]) == 1
    assert MatchingCandidate.objects.filter(study=matched).count() == 1
    frame = matching_candidates_frame(matched)
    assert list(frame["candidate_key"]) == ["gem-0042"]
    assert frame.loc[0, "n_child"] == 3 and not frame.loc[0, "selected"]


def test_a_bsn_is_refused_as_key_or_value_and_never_repeated(matched):
    for spec in (
        CandidateSpec(f"BSN{BSN}", 2024, {}),
        CandidateSpec("k1", 2024, {"n_child": float(BSN)}),
    ):
        with pytest.raises(ValidationError) as err:
            matching_candidates_record(study=matched, candidates=[spec])
        assert "BSN" in " ".join(err.value.messages)
        assert BSN not in " ".join(err.value.messages)
    assert not MatchingCandidate.objects.exists()


def test_a_csv_with_a_bsn_anywhere_is_refused_without_the_number():
    content = f"candidate_key,intake_year,selected,match_set,n_child\n{BSN},2024,0,,2\n".encode()
    with pytest.raises(ImportFileError) as err:
        candidates_from_csv(content, "pool.csv")
    assert BSN not in err.value.message
    with pytest.raises(ImportFileError):
        candidates_from_csv(b"bsn,intake_year\nx,2024\n", "pool.csv")


def test_the_csv_gives_its_candidates(matched, tmp_path):
    text = "candidate_key;intake_year;selected;match_set;n_child;bijstand\nk1;2024;ja;P1;2;1\n"
    text += "k2;2025;nee;;3,5;\n"
    specs = candidates_from_csv(text.encode(), "pool.csv")
    assert specs == [
        CandidateSpec("k1", 2024, {"n_child": 2.0, "bijstand": 1.0}, True, "P1"),
        CandidateSpec("k2", 2025, {"n_child": 3.5}, False, ""),
    ]
    path = tmp_path / "pool.csv"
    path.write_text(text)
    call_command("record_candidates", str(path), "--study-id", str(matched.pk))
    assert MatchingCandidate.objects.filter(study=matched).count() == 2


def test_only_a_matched_study_has_a_pool_and_sets_need_selection(matched):
    randomised = make_study(
        allocation_method=Study.AllocationMethod.RANDOMISED, enrolment_target=10
    )
    with pytest.raises(ValidationError):
        matching_candidates_record(study=randomised, candidates=[CandidateSpec("k", 2024)])
    with pytest.raises(ValidationError):
        matching_candidates_record(
            study=matched, candidates=[CandidateSpec("k", 2024, {}, False, "P1")]
        )
    with pytest.raises(CommandError):
        call_command("record_candidates", "/nonexistent.csv", "--study-id", str(matched.pk))


def test_a_researcher_records_the_pool_over_the_api_and_an_outsider_cannot(matched):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from study.roles import Role
    from tests.factories import make_member
    from tests.otp import api_verified

    text = b"candidate_key,intake_year,selected,match_set,n_child\nk1,2024,1,P1,2\nk2,2024,0,,3\n"
    researcher = api_verified(make_member(matched, Role.RESEARCHER))
    answer = researcher.post(
        "/api/matching-candidates/",
        {"study": matched.pk, "file": SimpleUploadedFile("pool.csv", text)},
        format="multipart",
    )
    assert answer.status_code == 201 and answer.json() == {"study": matched.pk, "candidates": 2}
    bsn = f"candidate_key,intake_year\n{BSN},2024\n".encode()
    refused = researcher.post(
        "/api/matching-candidates/",
        {"study": matched.pk, "file": SimpleUploadedFile("pool.csv", bsn)},
        format="multipart",
    )
    assert refused.status_code == 400 and BSN not in refused.content.decode()
    other = make_study(allocation_method=Study.AllocationMethod.MATCHED)
    outsider = api_verified(make_member(other, Role.RESEARCHER))
    denied = outsider.post(
        "/api/matching-candidates/",
        {"study": matched.pk, "file": SimpleUploadedFile("pool.csv", text)},
        format="multipart",
    )
    assert denied.status_code == 404
    assert MatchingCandidate.objects.filter(study=matched).count() == 2
