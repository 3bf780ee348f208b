"""Care workers from a coded list: names from the study's list (any case or spacing), free text
only as "anders", a data manager merges duplicates (audited) and codes typed names, and
"aantal hulpverleners" counts one worker recorded twice once."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from analysis.effects import derive
from study import panels
from study.models import CareCatalogueEntry, CareInvolvement, Family
from study.services.care import care_involvement_add
from study.services.care_catalogue import (
    care_catalogue_add,
    care_catalogue_merge,
    care_other_code,
    other_names,
)
from study.services.corrections import care_involvement_correct

pytestmark = pytest.mark.django_db

ORG, DISC = CareCatalogueEntry.Kind.ORGANISATION, CareCatalogueEntry.Kind.DISCIPLINE


@pytest.fixture
def listed(study, data_manager):
    return {
        "jbo": care_catalogue_add(
            study=study, kind=ORG, name="Jeugdbescherming Overijssel", user=data_manager
        ),
        "ggz": care_catalogue_add(study=study, kind=ORG, name="Mediant GGZ", user=data_manager),
        "jb": care_catalogue_add(study=study, kind=DISC, name="jeugdbeschermer", user=data_manager),
    }


def _add(family, coach, organisation, discipline, **kw):
    return care_involvement_add(
        family=family,
        organisation=organisation,
        discipline=discipline,
        start_date=date(2024, 1, 1),
        user=coach,
        **kw,
    )


def test_a_listed_name_is_coded_in_any_case_or_spacing(family, coach, listed):
    inv = _add(family, coach, "  jeugdbescherming   overijssel ", "JEUGDBESCHERMER")
    assert inv.organisation_entry == listed["jbo"] and inv.discipline_entry == listed["jb"]
    assert (inv.organisation, inv.discipline) == ("Jeugdbescherming Overijssel", "jeugdbeschermer")


def test_a_name_not_on_the_list_is_refused_unless_typed_as_anders(family, coach, listed):
    with pytest.raises(ValidationError) as refused:
        _add(family, coach, "Jeugdbescherming Oost", "jeugdbeschermer")
    assert "organisation" in refused.value.message_dict
    inv = _add(family, coach, "Jeugdbescherming Oost", "jeugdbeschermer", organisation_other=True)
    assert inv.organisation_entry is None and inv.organisation == "Jeugdbescherming Oost"
    assert inv.discipline_entry == listed["jb"]


def test_a_study_without_a_list_records_names_as_typed(family, coach):
    inv = _add(family, coach, "GGZ", "behandelaar")
    assert inv.organisation_entry is None and inv.organisation == "GGZ"


def test_only_a_data_manager_adds_and_merges(study, researcher, coach, listed):
    with pytest.raises(PermissionDenied):
        care_catalogue_add(study=study, kind=ORG, name="Karakter", user=researcher)
    with pytest.raises(PermissionDenied):
        care_catalogue_merge(
            study=study, sources=[listed["ggz"]], target=listed["jbo"], reason="x", user=coach
        )


def test_a_listed_name_is_not_added_twice(study, data_manager, listed):
    with pytest.raises(ValidationError):
        care_catalogue_add(study=study, kind=ORG, name="mediant  ggz", user=data_manager)


def test_merging_moves_the_workers_audited_and_the_old_name_finds_the_kept_one(
    study, family, coach, data_manager, listed
):
    duplicate = care_catalogue_add(
        study=study, kind=ORG, name="Jeugdbescherming Ov.", user=data_manager
    )
    moved_one = _add(family, coach, "Jeugdbescherming Ov.", "jeugdbeschermer")
    with pytest.raises(ValidationError):  # a reason is required
        care_catalogue_merge(
            study=study, sources=[duplicate], target=listed["jbo"], reason=" ", user=data_manager
        )
    moved = care_catalogue_merge(
        study=study,
        sources=[duplicate],
        target=listed["jbo"],
        reason="one organisation",
        user=data_manager,
    )
    assert moved == 1
    moved_one.refresh_from_db()
    assert moved_one.organisation_entry == listed["jbo"]
    assert moved_one.organisation == "Jeugdbescherming Overijssel"
    last = moved_one.history.first()
    assert last.history_user == data_manager and "one organisation" in last.history_change_reason
    duplicate.refresh_from_db()
    assert duplicate.merged_into == listed["jbo"]
    assert duplicate.history.first().history_user == data_manager
    typed_again = _add(family, coach, "jeugdbescherming ov.", "jeugdbeschermer")
    assert typed_again.organisation_entry == listed["jbo"]


def test_typed_names_are_coded_to_the_list(study, family, coach, data_manager, listed):
    typed = _add(family, coach, "JBO", "jeugdbeschermer", organisation_other=True)
    assert other_names(study, ORG) == [{"name": "JBO", "count": 1}]
    assert (
        care_other_code(
            study=study,
            kind=ORG,
            name="jbo",
            target=listed["jbo"],
            reason="the abbreviation",
            user=data_manager,
        )
        == 1
    )
    typed.refresh_from_db()
    assert typed.organisation_entry == listed["jbo"] and other_names(study, ORG) == []


def test_a_correction_codes_the_new_name(family, coach, listed):
    inv = _add(family, coach, "Jeugdbescherming Overijssel", "jeugdbeschermer")
    with pytest.raises(ValidationError):
        care_involvement_correct(
            involvement=inv, changes={"organisation": "Elders"}, reason="typo", user=coach
        )
    inv = care_involvement_correct(
        involvement=inv, changes={"organisation": "mediant ggz"}, reason="wrong one", user=coach
    )
    assert inv.organisation_entry == listed["ggz"] and inv.organisation == "Mediant GGZ"


def test_a_worker_entered_twice_counts_once_in_aantal_hulpverleners(
    study, family, coach, data_manager, listed
):
    # The case: the same worker typed twice, once as a duplicate entry later merged.
    duplicate = care_catalogue_add(study=study, kind=ORG, name="JB Overijssel", user=data_manager)
    _add(family, coach, "Jeugdbescherming Overijssel", "jeugdbeschermer")
    _add(family, coach, "JB Overijssel", "jeugdbeschermer")
    _add(family, coach, "Mediant GGZ", "jeugdbeschermer")
    frame = panels.involvement_frame(Family.objects.filter(pk=family.pk))
    years = frame[["family_id"]].head(1).assign(year=2024)
    assert derive.care_workers_per_year(frame, years).tolist() == [3.0]
    care_catalogue_merge(
        study=study, sources=[duplicate], target=listed["jbo"], reason="same", user=data_manager
    )
    frame = panels.involvement_frame(Family.objects.filter(pk=family.pk))
    assert derive.care_workers_per_year(frame, years).tolist() == [2.0]
    assert CareInvolvement.objects.filter(family=family).count() == 3


def test_the_list_page_searches_merges_and_codes(
    client, study, family, coach, data_manager, listed
):
    client.force_login(data_manager)
    url = reverse("study:care_catalogue", args=[study.pk])
    page = client.get(url, {"q": "overijssel"})
    assert [row["entry"] for row in page.context["entries"]] == [listed["jbo"]]
    client.post(f"{url}?kind=organisation", {"action": "add", "name": "Karakter"})
    karakter = CareCatalogueEntry.objects.get(name="Karakter")
    response = client.post(
        f"{url}?kind=organisation",
        {
            "action": "merge",
            "target": listed["ggz"].pk,
            "sources": [karakter.pk],
            "reason": "duplicate",
        },
    )
    assert response.status_code == 302
    karakter.refresh_from_db()
    assert karakter.merged_into == listed["ggz"]


def test_the_care_worker_form_offers_the_list_and_anders(client, family, coach, listed):
    client.force_login(coach)
    url = reverse("study:care_workers", args=[family.pk])
    page = client.get(url).content.decode()
    assert '<option value="Jeugdbescherming Overijssel">' in page
    assert 'name="organisation_other"' in page
    refused = client.post(
        url,
        {"organisation": "Elders", "discipline": "jeugdbeschermer", "start_date": "2024-02-01"},
    )
    assert refused.status_code == 400
    assert "not on the study" in refused.content.decode()
    client.post(
        url,
        {
            "organisation": "Elders",
            "organisation_other": "on",
            "discipline": "jeugdbeschermer",
            "start_date": "2024-02-01",
        },
    )
    assert CareInvolvement.objects.get(family=family).organisation == "Elders"


def test_the_api_shows_the_entries_and_corrects_to_anders(family, coach, listed):
    from tests.otp import api_verified

    inv = _add(family, coach, "Jeugdbescherming Overijssel", "jeugdbeschermer")
    client = api_verified(coach)
    shown = client.get(f"/api/care-involvements/{inv.pk}/").json()
    assert shown["organisation_entry"] == listed["jbo"].pk
    refused = client.patch(
        f"/api/care-involvements/{inv.pk}/",
        {"organisation": "Elders", "reason": "wrong"},
        format="json",
    )
    assert refused.status_code == 400 and "organisation" in refused.json()
    corrected = client.patch(
        f"/api/care-involvements/{inv.pk}/",
        {"organisation": "Elders", "organisation_other": True, "reason": "wrong"},
        format="json",
    )
    assert corrected.status_code == 200, corrected.content
    assert corrected.json()["organisation_entry"] is None
    assert corrected.json()["organisation"] == "Elders"


def _backfill():
    """The migration's function that codes the names recorded before the list existed, and the
    models as that migration sees them (found by name: the migration's number may change)."""
    import importlib
    from pathlib import Path

    from django.db import connection
    from django.db.migrations.loader import MigrationLoader

    import study.migrations as package

    for path in sorted(Path(package.__path__[0]).glob("0*.py")):
        module = importlib.import_module(f"study.migrations.{path.stem}")
        if hasattr(module, "code_recorded_names"):
            state = MigrationLoader(connection).project_state(("study", path.stem))
            return module.code_recorded_names, state.apps
    raise AssertionError("no migration codes the recorded names")


def test_the_migration_codes_recorded_names_once_per_spelling(study, family, coach):
    from django.db import connection

    for org in ("Jeugdbescherming Overijssel", "jeugdbescherming  overijssel", "Mediant GGZ"):
        _add(family, coach, org, "jeugdbeschermer")
    CareCatalogueEntry.objects.all().delete()  # as before the list existed
    histories = CareInvolvement.history.count()
    # the function uses only the schema editor's connection (SQLite's editor refuses to open
    # inside the test's transaction)
    backfill, migration_apps = _backfill()
    backfill(migration_apps, SimpleNamespace(connection=connection))
    names = sorted(
        CareCatalogueEntry.objects.filter(study=study, kind=ORG).values_list("name", flat=True)
    )
    assert names == ["Jeugdbescherming Overijssel", "Mediant GGZ"]
    coded = CareInvolvement.objects.filter(family=family)
    assert not coded.filter(organisation_entry__isnull=True).exists()
    assert coded.filter(organisation="Jeugdbescherming Overijssel").count() == 2
    assert CareInvolvement.history.count() == histories + 3  # each change audited
    assert CareCatalogueEntry.history.count() == 3  # two organisations, one discipline
