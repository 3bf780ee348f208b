"""Forms of the entry pages, without HTTP: what they accept and what they hand to services."""

from __future__ import annotations

from study.catalogue import indicators_for
from study.forms import ContactForm, WaveEntryForm


def _form(study, data=None, **kw) -> WaveEntryForm:
    return WaveEntryForm(data, indicators=indicators_for(study), **kw)


def test_suggestion_is_shown_beside_an_empty_field_and_says_where_it_came_from(study):
    form = _form(study, suggestions={"bijstand": ("2", "", "T0")})
    assert form["v_bijstand"].value() in (None, ""), "a suggestion is never put in the field"
    rows = {r["indicator"].code: r for g in form.groups() for r in g["rows"]}
    assert rows["bijstand"]["suggested_from"] == "T0"
    assert rows["bijstand"]["suggested_text"] == "2"
    assert rows["ww"]["suggested_from"] == ""


def test_only_typed_or_confirmed_fields_are_handed_on(study):
    suggestions = {
        "bijstand": ("2", "", "T0"),
        "ww": ("1", "", "T0"),
        "moves": ("", "refused", "T0"),
    }
    form = _form(study, {"c_bijstand": "on", "v_ww": "0"}, suggestions=suggestions)
    assert form.is_valid(), form.errors
    assert form.indicator_values() == {"bijstand": "2", "ww": "0"}
    assert form.unconfirmed() == 1


def test_confirm_all_confirms_the_suggestions_of_its_section_only(study):
    levels = {i.code: i.level for i in indicators_for(study)}
    suggestions = dict.fromkeys(levels, ("1", "", "T0"))
    form = _form(study, {"ca_household": "on"}, suggestions=suggestions)
    assert form.is_valid(), form.errors
    confirmed = set(form.indicator_values())
    assert confirmed == {c for c, level in levels.items() if level == "household"}
    assert form.unconfirmed() == len(levels) - len(confirmed)


def test_an_emptied_field_is_a_clear(study):
    form = _form(
        study, {"v_bijstand": "", "v_ww": "1"}, current={"bijstand": ("3", ""), "ww": ("1", "")}
    )
    assert form.is_valid(), form.errors
    assert form.cleared() == ["bijstand"]
    assert form.indicator_values() == {}, "an unchanged field is not written again"


def test_a_value_of_this_wave_wins_over_the_suggestion(study):
    form = _form(study, current={"bijstand": ("1", "")}, suggestions={"bijstand": ("2", "", "T0")})
    assert form["v_bijstand"].value() == "1"
    assert "bijstand" not in form.suggestions


def test_groups_follow_the_catalogue_levels_in_order(study):
    levels = [g["level"] for g in _form(study).groups()]
    assert levels == ["household", "adult", "child"]


def test_values_pass_the_number_as_typed_or_the_missing_code(study):
    form = _form(study, {"v_bijstand": " 1,5 ", "m_ww": "refused", "v_other_benefit": ""})
    assert form.is_valid(), form.errors
    assert form.indicator_values() == {"bijstand": "1,5", "ww": "refused"}


def test_an_empty_survey_hands_on_empty_answers(study):
    form = _form(study, {})
    assert form.is_valid()
    assert set(form.survey_data().values()) == {""}, "the service writes only what changed"


def test_a_survey_answer_is_recorded_with_the_others_cleared(study):
    form = _form(study, {"satisfaction": "6"})
    assert form.is_valid()
    data = form.survey_data()
    assert data["satisfaction"] == 6 and data["reachability"] == ""


def test_pre_intake_form_has_no_survey(study):
    form = _form(study, {}, with_survey=False)
    assert "satisfaction" not in form.fields and form.is_valid()
    assert form.survey_data() is None


def test_read_only_form_ignores_posted_values(study):
    form = _form(study, {"v_bijstand": "3"}, current={"bijstand": ("1", "")}, read_only=True)
    assert form.is_valid()
    assert form.indicator_values() == {}, "nothing changed: the stored value stays"


def test_contact_request_time_is_dropped_unless_the_family_asked(db):
    data = {
        "occurred_at": "2022-05-01T10:30",
        "kind": "phone",
        "duration_minutes": "10",
        "initiated_by": "professional",
        "requested_at": "2022-05-01T09:00",
    }
    form = ContactForm(data)
    assert form.is_valid(), form.errors
    assert form.cleaned_data["requested_at"] is None
    form = ContactForm({**data, "initiated_by": "family"})
    assert form.is_valid()
    assert form.cleaned_data["requested_at"] is not None
