"""The faster wave entry form (issue 21: its rows written by the `entry_rows` tag, the form's
choices and values read once) gives the page it gave before: each response is compared with the
same context rendered through the template as it was (kept in reference/), in Dutch and English,
with suggestions, errors (hard, both-given and soft limit), and locked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.template import engines
from django.urls import reverse

from study.models import StudyDataPolicy, Wave
from study.services.values import indicator_values_record
from study.services.waves import wave_lock
from study.views import waves
from tests.factories import make_family

REFERENCE = Path(__file__).parent / "reference" / "wave_entry_before.html"
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


@pytest.fixture
def before(monkeypatch) -> list[str]:
    """The page of each request as the reference template renders the view's context."""
    seen: list[str] = []
    real = waves.render

    def render(request, template_name, context=None, status=None):
        if template_name == "study/wave_entry.html":
            reference = engines["django"].from_string(REFERENCE.read_text())
            seen.append(reference.render(dict(context), request))
        return real(request, template_name, context, status=status)

    monkeypatch.setattr(waves, "render", render)
    return seen


def _same(response, before: list[str]) -> str:
    html = response.content.decode()
    assert before, "the view rendered the page"
    assert TOKEN.sub("", html) == TOKEN.sub("", before.pop())
    return html


def _url(wave: Wave) -> str:
    return reverse("study:wave_entry", args=[wave.pk])


@pytest.mark.parametrize("language", ["nl", "en"])
def test_entry_page_with_suggestions_and_errors_is_unchanged(
    client, researcher, family, before, language
):
    t0, t1 = family.waves.get(index=0), family.waves.get(index=1)
    indicator_values_record(wave=t0, values={"bijstand": 2, "ww": "unknown", "moves": 1})
    indicator_values_record(wave=t1, values={"moves": 3})
    client.force_login(researcher)
    headers = {"HTTP_ACCEPT_LANGUAGE": language}
    html = _same(client.get(_url(t1), **headers), before)
    assert 'name="c_bijstand"' in html and 'id="row-bijstand"' in html
    _same(client.get(_url(t0), **headers), before)
    posted = {"v_bijstand": "99", "v_ww": "1", "m_ww": "unknown", "satisfaction": "x"}
    response = client.post(_url(t1), posted, **headers)
    assert response.status_code == 400
    html = _same(response, before)
    assert 'id="error-bijstand"' in html and 'id="error-ww"' in html
    wave_lock(wave=t1, user=researcher)
    html = _same(client.get(_url(t1), **headers), before)
    assert 'id="locked-notice"' in html


def test_entry_page_asking_to_confirm_a_soft_limit_is_unchanged(client, researcher, study, before):
    StudyDataPolicy.objects.create(study=study, soft_limit_min_values=5)
    for _ in range(6):
        other = make_family(study, user=researcher)
        indicator_values_record(wave=other.waves.get(index=1), values={"bijstand": 1})
    target = make_family(study, user=researcher).waves.get(index=1)
    client.force_login(researcher)
    response = client.post(_url(target), {"v_bijstand": "4"})
    assert response.status_code == 400
    html = _same(response, before)
    assert 'name="sc_bijstand"' in html
