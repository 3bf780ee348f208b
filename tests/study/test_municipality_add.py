"""The CBS gemeentecode list set-up offers: complete for the classification in force since
1 January 2023, and `manage.py municipality_add` puts a later municipality on it (checked code,
no second code or spelling, offered at once)."""

from __future__ import annotations

import shutil

import pytest
from django.core.management import CommandError, call_command

from study import municipalities


@pytest.fixture
def list_copy(tmp_path, monkeypatch):
    path = tmp_path / "gemeenten.csv"
    shutil.copy(municipalities.list_file(), path)
    monkeypatch.setattr(municipalities, "_FILE", path)
    municipalities.municipalities.cache_clear()
    yield path
    municipalities.municipalities.cache_clear()


def test_a_new_municipality_is_added_and_offered(list_copy):
    before = len(municipalities.municipalities())
    assert municipalities.name_of("GM1999") is None
    call_command("municipality_add", code="gm1999", name="  Nieuwe   Gemeente ")
    assert municipalities.name_of("GM1999") == "Nieuwe Gemeente"
    assert len(municipalities.municipalities()) == before + 1
    assert ("GM1999", "Nieuwe Gemeente (GM1999)") in municipalities.choices()
    assert list_copy.read_text(encoding="utf-8").endswith("GM1999,Nieuwe Gemeente\n")


@pytest.mark.parametrize(
    ("code", "name", "message"),
    [
        ("1999", "Nieuwe Gemeente", "not a CBS gemeentecode"),
        ("GM19991", "Nieuwe Gemeente", "not a CBS gemeentecode"),
        ("GM1992", "Voorne", "on the list already, as Voorne aan Zee"),
        ("GM0141", "Almelo-Noord", "on the list already, as Almelo"),
        ("GM9999", "almelo", "on the list already, as GM0141"),
    ],
)
def test_a_wrong_or_known_municipality_is_refused(list_copy, code, name, message):
    before = list_copy.read_text(encoding="utf-8")
    with pytest.raises(CommandError, match=message):
        call_command("municipality_add", code=code, name=name)
    assert list_copy.read_text(encoding="utf-8") == before


@pytest.mark.django_db
def test_a_study_can_then_be_set_up_in_it(list_copy):
    from datetime import date

    from tests.factories import make_study

    call_command("municipality_add", code="GM1999", name="Nieuwe Gemeente")
    study = make_study(municipality="", municipality_code="GM1999", start_date=date(2026, 1, 1))
    assert (study.municipality_code, study.municipality) == ("GM1999", "Nieuwe Gemeente")


def test_the_shipped_list_is_cbs_classification_since_2023():
    listed = municipalities.municipalities()
    # CBS: 342 municipalities on 1 January 2023, 2024 and 2025.
    assert len(listed) == 342
    assert len({name.casefold() for name in listed.values()}) == 342
    assert all(municipalities.CODE.match(code) for code in listed)
    # The 2022 and 2023 mergers are in; the merged municipalities are not.
    assert listed["GM1992"] == "Voorne aan Zee"
    assert listed["GM1980"] == "Dijk en Waard"
    assert listed["GM1982"] == "Land van Cuijk"
    assert listed["GM1991"] == "Maashorst"
    for merged in ("GM0501", "GM0530", "GM0614", "GM0457", "GM0398", "GM0416", "GM0370"):
        assert merged not in listed
    # Twente as the set-up pages and tests know it; the two Bergens kept apart as CBS does.
    assert (listed["GM0141"], listed["GM0164"], listed["GM0153"]) == (
        "Almelo",
        "Hengelo",
        "Enschede",
    )
    assert (listed["GM0893"], listed["GM0373"]) == ("Bergen (L.)", "Bergen (NH.)")
    assert listed["GM0518"] == "'s-Gravenhage"
