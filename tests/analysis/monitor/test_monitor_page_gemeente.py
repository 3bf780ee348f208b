"""The monitor page as the gemeente reads it: Dutch column headers from the one label catalogue
(never a code name), shares with a decimal comma, downloads (CSV, XLSX) and a printable page with
the suppression applied, the cost per MPG explained beside the report's baseline figure, and
access through study/access.py only."""

import csv
import io
import re

import pytest
from django.utils import translation
from openpyxl import load_workbook

from analysis.monitor import labels, selectors
from analysis.monitor.catalogue import load_catalogue
from analysis.monitor.downloads import download_table
from analysis.monitor.models import MonitorReport
from analysis.monitor.report_columns import indicator_columns
from analysis.monitor.services import monitor_report_publish

from .helpers_monitor import stored_reports

pytestmark = pytest.mark.django_db

CODE_NAME = re.compile(r"\b[a-z]+_[a-z_0-9]+\b")


@pytest.fixture
def reports(tmp_path, researcher):
    stored = stored_reports(tmp_path)
    monitor_report_publish(report=stored["Almelo"], user=researcher)
    return stored


def _dutch_page(client, user, url):
    client.force_login(user)
    with translation.override("nl"):
        return client.get(url, HTTP_ACCEPT_LANGUAGE="nl")


def test_every_column_has_a_label_in_both_languages_and_none_is_a_code_name():
    catalogue = load_catalogue()
    columns = [*selectors.HEADLINE, *selectors.OVERLAP_AND_SUPPORT, *indicator_columns(catalogue)]
    for column in columns:
        for language in ("en", "nl"):
            label = labels.column_label(column, language, catalogue)
            assert label and not CODE_NAME.search(label), (column, language, label)
    assert labels.column_label("mpg", "nl") == "multiprobleemgezinnen (MPG)"
    assert labels.column_label("se_bijstand", "nl-nl") == "bijstandsuitkering"
    with pytest.raises(KeyError):
        labels.column_label("no_such_column", "nl")


def test_the_gemeente_page_has_dutch_headers_a_fixed_first_column_and_decimal_commas(
    client, study, gemeente_user, reports
):
    response = _dutch_page(client, gemeente_user, f"/monitor/{reports['Almelo'].pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    headers = re.findall(r'<th scope="col" class="num">([^<]*)</th>', body)
    assert "multiprobleemgezinnen (MPG)" in headers and "huishoudens met een kind" in headers
    assert not [h for h in headers if CODE_NAME.search(h)]
    assert body.count('class="table-scroll"') >= 3 and 'class="fixed"' in body
    shares = re.findall(r'<span class="share">\(([^)]*)%\)</span>', body)
    assert shares and all(re.fullmatch(r"\d+,\d", s) for s in shares), shares[:5]
    assert "css/monitor.css" in body


def test_the_cost_sentence_says_how_it_is_computed_and_why_it_differs_from_the_baseline(
    client, study, gemeente_user, reports
):
    client.force_login(gemeente_user)
    with translation.override("en"):
        body = client.get(f"/monitor/{reports['Almelo'].pk}/").content.decode()
    how = re.search(r'<p id="cost-how">(.*?)</p>', body, re.S).group(1)
    why = re.search(r'<p id="cost-why">(.*?)</p>', body, re.S).group(1)
    assert "How it is computed" in how
    assert "baseline figure in the effect report" in why and "114,291" in why


def test_cost_explanation_of_the_cost_model_names_households_year_and_prices():
    from analysis.monitor.costing import cost_explanation

    cost = {
        "source": "cost_engine",
        "reason": "cost_engine",
        "year": 2024,
        "price_year": 2024,
        "catalogue_version": 1,
        "families": 174,
        "cost_per_mpg_eur": 120000.0,
    }
    with translation.override("en"):
        text = cost_explanation(cost, municipality="Almelo", year=2024)
    assert "average over those 174 households" in text["how"]
    assert "prices of 2024" in text["how"] and "MPG households of Almelo in 2024" in text["why"]
    few = {**cost, "families": 7}
    with translation.override("en"):
        assert "those * households" in cost_explanation(few, municipality="A", year=2024)["how"]


def test_downloads_carry_the_suppression_dutch_headers_and_decimal_commas(
    client, study, gemeente_user, reports
):
    report = reports["Almelo"]
    response = _dutch_page(client, gemeente_user, f"/monitor/{report.pk}/download/csv/")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][0] == "Wijk" and "multiprobleemgezinnen (MPG)" in rows[0]
    assert not [h for h in rows[0] if CODE_NAME.search(h)]
    cells = [c for row in rows[1:] for c in row[1:]]
    assert "*" in cells
    assert not [c for c in cells if c in {str(n) for n in range(1, 10)}]
    assert any(re.fullmatch(r"\d+,\d", c) for c in cells)
    assert rows[-1][0] == "Almelo"  # the municipality's total row last

    response = _dutch_page(client, gemeente_user, f"/monitor/{report.pk}/download/xlsx/")
    book = load_workbook(io.BytesIO(response.content))
    sheet = book["MPG"]
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0] == rows[0] and sheet.freeze_panes == "B2"
    numbers = [v for row in values[1:] for v in row[1:] if isinstance(v, int)]
    assert numbers and not [v for v in numbers if 1 <= v <= 9]
    assert "Toelichting" in book.sheetnames


def test_downloads_suppress_a_small_count_even_if_the_stored_report_did_not(researcher):
    report = MonitorReport.objects.create(
        municipality="Almelo",
        year=2030,
        tables={
            "wijken": [
                {"wijk": "=HYPERLINK(1)", "households_with_child": 40, "mpg": 3, "pct_mpg": 7.5}
            ],
            "municipalities": [{"municipality": "Almelo", "households_with_child": 40, "mpg": 3}],
        },
    )
    headers, rows = download_table(report, "nl")
    mpg = headers.index("multiprobleemgezinnen (MPG)")
    assert rows[0][mpg] == "*" and rows[0][mpg + 1] is None  # no share of a hidden count
    assert rows[0][0].startswith("'=")  # a formula stays text


def test_the_printable_page_shows_the_same_tables(client, study, gemeente_user, reports):
    response = _dutch_page(client, gemeente_user, f"/monitor/{reports['Almelo'].pk}/print/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "multiprobleemgezinnen (MPG)" in body and 'id="cost-why"' in body


def test_the_gemeente_reaches_downloads_of_its_own_published_reports_only(
    client, study, gemeente_user, reports
):
    client.force_login(gemeente_user)
    for municipality, expected in (("Almelo", 200), ("Borne", 404)):
        pk = reports[municipality].pk
        for url in (
            f"/monitor/{pk}/download/csv/",
            f"/monitor/{pk}/download/xlsx/",
            f"/monitor/{pk}/print/",
        ):
            assert client.get(url).status_code == expected, url
    assert client.get(f"/monitor/{reports['Almelo'].pk}/download/pdf/").status_code == 404
    client.logout()
    assert client.get(f"/monitor/{reports['Almelo'].pk}/download/csv/").status_code == 302
