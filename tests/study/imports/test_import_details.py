"""Import details (issue 15): Dutch missing-data words, the accepted codes named in the error,
the dry run's "would add" (nothing created), labels in the preview, an unknown family reported
once per row."""

from __future__ import annotations

import pytest
from django.urls import reverse

from study.imports import workflow
from study.models import ImportBatch, IndicatorValue
from tests.factories import make_family

pytestmark = pytest.mark.django_db


def _dry_run(study, user, text: str):
    batch = workflow.registry_import_upload(
        study=study, user=user, filename="x.csv", content=text.encode(), enqueue=False
    )
    return workflow.registry_import_validate(batch_id=batch.pk)


@pytest.mark.parametrize("quoted", [False, True], ids=["set-based", "cell-by-cell"])
def test_dutch_missing_data_words_are_read_as_their_codes(study, researcher, quoted):
    family = make_family(study, user=researcher)
    q = '"' if quoted else ""
    text = (
        "pseudonym;year;bijstand;low_income;debt_help;moves\n"
        f"{q}{family.pseudonym}{q};2021;Onbekend;geweigerd;niet  van toepassing;NIET GELEVERD\n"
    )
    batch = _dry_run(study, researcher, text)
    assert batch.status == ImportBatch.Status.VALIDATED, batch.errors
    workflow.registry_import_apply_request(batch=batch, user=researcher, enqueue=False)
    workflow.registry_import_apply(batch_id=batch.pk)
    stored = dict(
        IndicatorValue.objects.filter(wave__family=family).values_list(
            "indicator__code", "missing_code"
        )
    )
    assert stored == {
        "bijstand": "unknown",
        "low_income": "refused",
        "debt_help": "not_applicable",
        "moves": "not_delivered",
    }


def test_a_value_that_is_no_number_names_the_accepted_codes(study, researcher):
    family = make_family(study, user=researcher)
    batch = _dry_run(
        study, researcher, f"pseudonym,year,indicator,value\n{family.pseudonym},2021,bijstand,nvt\n"
    )
    (problem,) = batch.errors
    assert "'nvt' is not a number" in problem["message"]
    assert "not_applicable (niet van toepassing)" in problem["message"]
    assert "unknown (onbekend)" in problem["message"]
    out_of_range = _dry_run(
        study, researcher, f"pseudonym,year,indicator,value\n{family.pseudonym},2021,debt_help,3\n"
    )
    assert "accepted" not in out_of_range.errors[0]["message"]  # a number: only its range


def test_the_dry_run_says_would_add_and_created_nothing(client, study, researcher):
    family = make_family(study, user=researcher)
    text = f"pseudonym,year,indicator,value\n{family.pseudonym},2021,bijstand,1\n"
    batch = _dry_run(study, researcher, text)
    assert batch.summary["new"] == 1
    assert (batch.created, batch.updated, batch.unchanged) == (0, 0, 0)
    client.force_login(researcher)
    page = client.get(reverse("study:import_detail", args=[batch.pk])).content.decode()
    assert "would add 1, would change 0, 0 unchanged" in page
    assert " created" not in page and "1 new" not in page


def test_the_preview_shows_labels_not_codes(client, study, researcher):
    family = make_family(study, user=researcher)
    text = (
        "pseudonym,year,indicator,value\n"
        f"{family.pseudonym},2021,bijstand,1\n{family.pseudonym},2021,low_income,not_delivered\n"
    )
    batch = _dry_run(study, researcher, text)
    client.force_login(researcher)
    page = client.get(reverse("study:import_detail", args=[batch.pk])).content.decode()
    table = page.split('id="import-preview"', 1)[1].split("</table>", 1)[0]
    assert "members receiving social assistance during the year" in table
    assert "not delivered by the registry" in table and ">not_delivered<" not in table


def test_an_unknown_family_is_one_problem_per_row(study, researcher):
    family = make_family(study, user=researcher)
    text = (
        "pseudonym,year,bijstand,low_income,debt_help\n"
        "G-NOSUCH,2021,1,0,1\n"
        f"{family.pseudonym},2021,1,0,1\n"
        "G-NOSUCH,2022,1,0,1\n"
    )
    batch = _dry_run(study, researcher, text)
    unknown = [e for e in batch.errors if "No family" in e["message"]]
    assert [e["row"] for e in unknown] == [2, 4]
