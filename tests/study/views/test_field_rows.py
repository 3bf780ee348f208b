"""`{% field_row %}` / `{% check_row %}` / `{% choices_row %}` (issue 21) give what the includes
of partials/field.html, check.html and choices.html give, for every field of the forms whose pages
use them (set-up, new study, enrolment, professional survey, the wave entry's change reason and
survey): unbound with initial values, and bound with wrong data (errors), in Dutch and English;
anything but a bound field goes through the partial itself."""

from __future__ import annotations

import datetime

import pytest
from django.forms import RadioSelect
from django.template import engines
from django.utils import translation

from study import forms, setup_forms

PAIRS = (
    ('{% include "partials/field.html" with field=f %}', "{% field_row f %}"),
    ('{% include "partials/check.html" with field=f %}', "{% check_row f %}"),
    ('{% include "partials/choices.html" with field=f %}', "{% choices_row f %}"),
)
JUNK = {
    "name": "",
    "n_waves": "x",
    "start_date": "2021-13-40",
    "price_year": "<b>",
    "enrolment_target": "-1",
    "intake_date": "nope",
    "wijk": "a" * 200,
    "arm": "<script>",
    "identifier": "x" * 300,
    "acknowledge_warnings": "on",
    "year": "<i>",
    "job_satisfaction": "11",
    "autonomy": "3",
    "change_reason": "<b>" * 300,
}


def _forms() -> list:
    initial = {"name": "Studie <één>", "n_waves": 3, "start_date": datetime.date(2021, 3, 1)}
    return [
        setup_forms.StudySetUpForm(),
        setup_forms.StudyEditForm(initial=initial),
        setup_forms.StudyEditForm(JUNK, initial=initial),
        forms.EnrolForm(initial={"intake_date": datetime.date(2024, 5, 1)}),
        forms.EnrolForm(initial={"intake_date": datetime.date(2024, 5, 1)}, randomised=True),
        forms.EnrolForm(JUNK),
        forms.ProfessionalSurveyForm(initial={"year": 2024, "pride": 4}),
        forms.ProfessionalSurveyForm(JUNK),
        forms.WaveEntryForm(indicators=[]),
        forms.WaveEntryForm(JUNK, indicators=[]),
    ]


@pytest.mark.parametrize("language", ["nl", "en"])
def test_tags_give_what_the_partials_give(language):
    engine = engines["django"]
    with translation.override(language):
        for form in _forms():
            form.is_bound and form.is_valid()
            for name in form.fields:
                for include, tag in PAIRS:
                    if "choices" in tag and not isinstance(form.fields[name].widget, RadioSelect):
                        continue  # the partial of radio buttons, for those only
                    context = {"f": form[name]}
                    expected = engine.from_string(include).render(context)
                    got = engine.from_string("{% load field_rows %}" + tag).render(context)
                    assert got == expected, (type(form).__name__, name, tag)


def test_anything_but_a_bound_field_goes_through_the_partial():
    engine = engines["django"]
    for include, tag in PAIRS:
        for value in ("", None):
            context = {"f": value}
            expected = engine.from_string(include).render(context)
            assert engine.from_string("{% load field_rows %}" + tag).render(context) == expected
