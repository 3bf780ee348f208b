"""The study's query list renders its rows from plain values (issue 21): the same rows as the
template loop over model instances it replaced."""

from __future__ import annotations

import re

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation

from study.models import DataQuery, Indicator, QualityRule
from study.services.values import indicator_values_record

pytestmark = pytest.mark.django_db

#: The list's row loop before (model instances, select_related), kept to pin the new one.
OLD_ROWS = (
    "{% load i18n l10n %}{% for q in queries %}"
    '<tr id="query-{{ q.pk|unlocalize }}"><td>{{ q.wave.family.pseudonym }}</td>'
    '<td>{{ q.wave.label }}</td><td>{{ q.indicator.code }}</td><td><a href="{% url '
    "'study:query_detail' q.pk %}\">{{ q.message }}</a></td><td><span class=\"badge "
    'query-{{ q.status }}">{{ q.get_status_display }}</span></td><td>{{ q.opened_at|date:'
    '"DATETIME_FORMAT" }}</td></tr>'
    '{% empty %}<tr><td colspan="6">{% translate "No queries." %}</td></tr>{% endfor %}'
)


def _tbody(html: str) -> str:
    """The rows, whitespace between tags dropped (the template's line breaks)."""
    found = re.search(r'<table id="queries">.*?<tbody>(.*?)</tbody>', html, re.S)
    assert found is not None
    return re.sub(r">\s+<", "><", found.group(1).strip())


@pytest.mark.parametrize("language", ["nl", "en"])
def test_query_rows_are_the_old_loop(client, researcher, study, family, other_family, language):
    QualityRule.objects.create(
        study=study,
        kind=QualityRule.Kind.RANGE,
        indicator=Indicator.objects.get(code="bijstand", study__isnull=True),
        params={"min": 0, "max": 4},
    )
    for f, index in ((family, 1), (other_family, 1), (family, 2)):
        wave = f.waves.get(index=index)
        indicator_values_record(wave=wave, values={"bijstand": 6}, user=researcher)
    DataQuery.objects.filter(pk=DataQuery.objects.order_by("pk").first().pk).update(
        status=DataQuery.Status.CLOSED
    )
    assert DataQuery.objects.count() == 3
    client.force_login(researcher)
    client.cookies["django_language"] = language
    url = reverse("study:query_list", args=[study.pk])
    for query_string in ("", "?status=all", "?status=closed", "?status=answered", "?status=x"):
        page = client.get(url + query_string).content.decode()
        status = query_string.removeprefix("?status=") or "open"
        old = DataQuery.objects.filter(wave__family__study=study)
        if status in DataQuery.Status.values:
            old = old.filter(status=status)
        old = old.select_related("wave__family", "indicator", "rule").order_by("-opened_at")
        with translation.override(language):
            expected = Template(OLD_ROWS).render(Context({"queries": list(old)}))
        assert _tbody(page) == re.sub(r">\s+<", "><", expected.strip())
        assert page.count('<tr id="query-') == len(old)
