"""`manage.py municipality_add` puts a municipality on the CBS list set-up offers (the shipped
list is partial): checked code, no second code or spelling, offered at once."""

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
    assert municipalities.name_of("GM1992") is None
    call_command("municipality_add", code="gm1992", name="  Voorne   aan Zee ")
    assert municipalities.name_of("GM1992") == "Voorne aan Zee"
    assert len(municipalities.municipalities()) == before + 1
    assert ("GM1992", "Voorne aan Zee (GM1992)") in municipalities.choices()
    assert list_copy.read_text(encoding="utf-8").endswith("GM1992,Voorne aan Zee\n")


@pytest.mark.parametrize(
    ("code", "name", "message"),
    [
        ("1992", "Voorne aan Zee", "not a CBS gemeentecode"),
        ("GM19921", "Voorne aan Zee", "not a CBS gemeentecode"),
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

    call_command("municipality_add", code="GM1992", name="Voorne aan Zee")
    study = make_study(municipality="", municipality_code="GM1992", start_date=date(2026, 1, 1))
    assert (study.municipality_code, study.municipality) == ("GM1992", "Voorne aan Zee")
