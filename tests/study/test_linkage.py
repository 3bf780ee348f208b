"""Keyed-hash linkage keys and the pseudonymise command."""

import csv

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from study import linkage
from tests.factories import make_family

VALID_BSN = "111222333"  # passes the 11-proof


def test_linkage_key_is_stable_for_same_identifier_and_key():
    assert linkage.bsn_linkage_key(VALID_BSN, key="k1") == linkage.bsn_linkage_key(
        " 111.222.333 ", key="k1"
    )


def test_linkage_key_differs_across_keys():
    assert linkage.bsn_linkage_key(VALID_BSN, key="k1") != linkage.bsn_linkage_key(
        VALID_BSN, key="k2"
    )


def test_eight_digit_bsn_is_left_padded():
    assert linkage.normalise_bsn("11222311") == "011222311"


@pytest.mark.parametrize("bad", ["123456789", "12345", "abcdefghi", "000000000", ""])
def test_invalid_bsn_is_refused(bad):
    with pytest.raises(linkage.IdentifierError):
        linkage.normalise_bsn(bad)


def test_address_key_normalises_spacing_and_case():
    a = linkage.address_linkage_key("7607 ab", "12 a", key="k")
    b = linkage.address_linkage_key("7607AB", "12A", key="k")
    assert a == b


def test_linkage_module_has_no_django_import():
    import subprocess
    import sys

    code = "import sys, study.linkage; assert not any(m.startswith('django') for m in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_no_identifier_is_stored_anywhere_in_the_database(study):
    make_family(study, identifier=VALID_BSN)
    hits = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            for row in cursor.fetchall():
                if any(VALID_BSN in str(cell) for cell in row):
                    hits.append(table)
    assert hits == []


def test_enrolling_the_same_identifier_twice_is_refused(study):
    from django.core.exceptions import ValidationError

    make_family(study, identifier=VALID_BSN)
    with pytest.raises(ValidationError, match="already enrolled"):
        make_family(study, "comparison", identifier=VALID_BSN)


def test_pseudonymise_command_replaces_the_bsn_column(tmp_path, settings):
    settings.LINKAGE_KEY = "secret"
    src = tmp_path / "extract.csv"
    src.write_text("bsn;year;bijstand\n111222333;2021;1\n11222311;2021;0\n", encoding="utf-8")
    out = tmp_path / "linked.csv"
    call_command("pseudonymise", input=str(src), output=str(out), id_column="bsn")
    rows = list(csv.DictReader(out.open(encoding="utf-8"), delimiter=";"))
    assert [r["linkage_key"] for r in rows][0] == linkage.bsn_linkage_key(VALID_BSN, key="secret")
    assert "bsn" not in rows[0]
    assert VALID_BSN not in out.read_text()


def test_pseudonymise_refuses_an_invalid_bsn_naming_the_row(tmp_path):
    src = tmp_path / "extract.csv"
    src.write_text("bsn,year\n111222333,2021\n123456789,2021\n", encoding="utf-8")
    out = tmp_path / "linked.csv"
    with pytest.raises(CommandError, match="Row 3, column 'bsn'"):
        call_command("pseudonymise", input=str(src), output=str(out), id_column="bsn")
    assert not out.exists()


def test_pseudonymise_refuses_a_missing_column(tmp_path):
    src = tmp_path / "extract.csv"
    src.write_text("burgerservicenummer,year\n111222333,2021\n", encoding="utf-8")
    with pytest.raises(CommandError, match="Column\\(s\\) bsn not found"):
        call_command(
            "pseudonymise", input=str(src), output=str(tmp_path / "o.csv"), id_column="bsn"
        )
