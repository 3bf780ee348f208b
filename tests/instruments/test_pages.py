"""The instrument pages: entry by a researcher and a wijkcoach with the score after saving, the
locked respondent mode (only this instrument, the exit needs the password), the versions page,
codebook and export."""

from __future__ import annotations

from datetime import date

import pytest

from instruments.models import Administration, InstrumentVersion
from instruments.services import instruments_ensure_shipped
from study.models import AccessEvent
from study.roles import Role
from study.services.care import caseload_assign
from tests.factories import make_family, make_member, make_study

pytestmark = pytest.mark.django_db
PASSWORD = "pw-for-tests-123"


@pytest.fixture
def world():
    instruments_ensure_shipped()
    study = make_study()
    researcher = make_member(study, Role.RESEARCHER)
    coach = make_member(study, Role.WIJKCOACH)
    family = make_family(study, user=researcher)
    caseload_assign(family=family, coach=coach, start_date=date(2021, 3, 1), user=researcher)
    mansa = InstrumentVersion.objects.get(code="mansa12", version=1)
    return study, researcher, coach, family, family.waves.get(index=0), mansa


def _mansa_post(value: int = 5, **extra) -> dict:
    items = InstrumentVersion.objects.get(code="mansa12").parsed.item_codes
    return {**dict.fromkeys(items, str(value)), **extra}


def test_a_researcher_enters_mansa_and_sees_the_score(client, world):
    _, researcher, _, _, wave, mansa = world
    client.force_login(researcher)
    page = client.get(f"/instruments/waves/{wave.pk}/{mansa.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "Hoe tevreden bent u met uw leven als geheel?" in body or "life as a whole" in body
    assert "Mostly satisfied" in body
    assert "refused" in body  # the item's missing-data codes are offered
    response = client.post(
        f"/instruments/waves/{wave.pk}/{mansa.pk}/",
        _mansa_post(5, work="2", sex_life="m:refused"),
        follow=True,
    )
    admin = Administration.objects.get()
    assert admin.mode == "researcher" and admin.missing_codes == {"sex_life": "refused"}
    assert admin.scores["mean"] == pytest.approx(52 / 11, abs=1e-4)
    assert "4.73" in response.content.decode()


def test_a_wijkcoach_enters_on_their_caseload_only(client, world):
    study, _, coach, _, wave, mansa = world
    client.force_login(coach)
    client.post(f"/instruments/waves/{wave.pk}/{mansa.pk}/", _mansa_post(3))
    assert Administration.objects.get().mode == "coach"
    other = make_family(study).waves.get(index=0)
    assert client.get(f"/instruments/waves/{other.pk}/{mansa.pk}/").status_code == 404


def test_too_few_items_saves_without_a_score_and_says_so(client, world):
    _, researcher, _, _, wave, mansa = world
    client.force_login(researcher)
    data = dict(list(_mansa_post(4).items())[:9])
    response = client.post(f"/instruments/waves/{wave.pk}/{mansa.pk}/", data, follow=True)
    assert Administration.objects.get().scores == {"mean": None}
    assert "too few items" in response.content.decode()


def test_gemeente_and_anonymous_get_no_entry_page(client, world):
    study, _, _, _, wave, mansa = world
    client.force_login(make_member(study, Role.GEMEENTE))
    assert client.get(f"/instruments/waves/{wave.pk}/{mansa.pk}/").status_code == 404
    client.logout()
    assert client.get(f"/instruments/waves/{wave.pk}/{mansa.pk}/").status_code == 302


def test_the_entry_page_is_a_logged_family_read(client, world):
    _, researcher, _, family, wave, mansa = world
    client.force_login(researcher)
    before = AccessEvent.objects.count()
    client.get(f"/instruments/waves/{wave.pk}/{mansa.pk}/")
    event = AccessEvent.objects.order_by("-pk").first()
    assert AccessEvent.objects.count() == before + 1 and event.family_ids == [family.pk]


def test_the_respondent_mode_shows_only_the_instrument_until_the_password(client, world):
    _, _, coach, family, wave, mansa = world
    client.force_login(coach)
    start = client.post(
        f"/instruments/waves/{wave.pk}/{mansa.pk}/respondent/", {"start": "respondent"}
    )
    assert start.status_code == 302 and start["Location"] == "/instruments/respondent/"
    form = client.get("/instruments/respondent/")
    assert form.status_code == 200 and family.pseudonym not in form.content.decode()
    for elsewhere in (
        "/",
        f"/families/{family.pk}/",
        "/caseload/",
        f"/instruments/waves/{wave.pk}/",
    ):
        assert client.get(elsewhere)["Location"] == "/instruments/respondent/"
    done = client.post("/instruments/respondent/", _mansa_post(6), follow=True)
    assert "hand the tablet back" in done.content.decode()
    admin = Administration.objects.get()
    assert admin.mode == "respondent" and admin.scores == {"mean": 6.0}
    wrong = client.post("/instruments/respondent/exit/", {"password": "guess"})
    assert wrong.status_code == 200 and client.get("/")["Location"] == "/instruments/respondent/"
    out = client.post("/instruments/respondent/exit/", {"password": PASSWORD})
    assert out["Location"] == f"/instruments/administrations/{admin.pk}/"
    assert client.get("/caseload/").status_code == 200


def test_five_wrong_exit_passwords_end_the_session(client, world):
    _, _, coach, _, wave, mansa = world
    client.force_login(coach)
    client.post(f"/instruments/waves/{wave.pk}/{mansa.pk}/respondent/", {"start": "respondent"})
    for _ in range(5):
        client.post("/instruments/respondent/exit/", {"password": "guess"})
    assert "/accounts/login/" in client.get("/caseload/")["Location"]


def test_versions_codebook_and_export_for_researchers(client, world):
    study, researcher, coach, _, wave, mansa = world
    client.force_login(researcher)
    client.post(f"/instruments/waves/{wave.pk}/{mansa.pk}/", _mansa_post(4))
    assert "MANSA-12" in client.get(f"/instruments/studies/{study.pk}/").content.decode()
    book = client.get(f"/instruments/studies/{study.pk}/codebook/").content.decode()
    assert "mansa12_life" in book and "mansa12_score_mean" in book
    csv = client.get(f"/instruments/studies/{study.pk}/export/csv/").content.decode()
    header, first = csv.splitlines()[:2]
    assert "version" in header.split(",") and "mansa12_score_mean" in header
    for fmt in ("xlsx", "sav", "dta", "codebook.csv"):
        assert client.get(f"/instruments/studies/{study.pk}/export/{fmt}/").status_code == 200
    client.force_login(coach)
    assert client.get(f"/instruments/studies/{study.pk}/export/csv/").status_code == 403
