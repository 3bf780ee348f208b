"""The professional survey page with its fields written by tags (issue 21: `field_row` and
`choices_row` instead of six includes) gives the page it gave before: each response is compared
with the same context rendered through the template as it was (kept in reference/), in Dutch and
English, unanswered, answered, with errors and for a professional of two studies."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.template import engines
from django.urls import reverse
from django.utils import timezone

from study.models import Professional, ProfessionalSurvey
from study.views import professionals
from tests.factories import make_study, make_user

REFERENCE = Path(__file__).parent / "reference" / "professional_survey_before.html"
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


@pytest.fixture
def before(monkeypatch) -> list[str]:
    """The page of each request as the reference template renders the view's context."""
    seen: list[str] = []
    real = professionals.render

    def render(request, template_name, context=None, status=None):
        reference = engines["django"].from_string(REFERENCE.read_text())
        seen.append(reference.render(dict(context), request))
        return real(request, template_name, context, status=status)

    monkeypatch.setattr(professionals, "render", render)
    return seen


def _same(response, before: list[str]) -> str:
    html = response.content.decode()
    assert before, "the view rendered the page"
    assert TOKEN.sub("", html) == TOKEN.sub("", before.pop())
    return html


@pytest.mark.parametrize("language", ["nl", "en"])
def test_survey_page_is_unchanged(client, study, before, language):
    user = make_user(None)
    first = Professional.objects.create(
        study=study, organisation="Wijkteam <Oost>", approach="new", user=user
    )
    client.force_login(user)
    url = reverse("study:professional_survey")
    headers = {"HTTP_ACCEPT_LANGUAGE": language}
    _same(client.get(url, **headers), before)
    this_year = timezone.localdate().year
    ProfessionalSurvey.objects.create(professional=first, year=2021, job_satisfaction=6)
    ProfessionalSurvey.objects.create(
        professional=first, year=this_year, job_satisfaction=8, autonomy=4, cooperation=2
    )
    html = _same(client.get(url, **headers), before)
    assert "2021, " in html
    response = client.post(
        url, {"year": "x", "job_satisfaction": "11", "pride": "9", "autonomy": "3"}, **headers
    )
    assert response.status_code == 400
    html = _same(response, before)
    assert 'id="error-job_satisfaction"' in html and 'id="error-year"' in html
    other = make_study(name="Tweede <studie>")
    second = Professional.objects.create(
        study=other, organisation="GGD", approach="usual", user=user
    )
    html = _same(client.get(url, {"professional": second.pk}, **headers), before)
    assert 'aria-current="true"' in html


def test_no_professional_page_is_unchanged(client, db, before):
    client.force_login(make_user(None))
    _same(client.get(reverse("study:professional_survey")), before)
