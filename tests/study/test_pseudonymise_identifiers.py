"""`pseudonymise` leaves out every other direct-identifier column, with a warning."""

import csv
import io

from django.core.management import call_command


def test_pseudonymise_drops_name_and_other_identifier_columns(tmp_path, settings):
    settings.LINKAGE_KEY = "secret"
    src = tmp_path / "extract.csv"
    src.write_text(
        "bsn;naam;bsn_moeder;geboortedatum;year;bijstand\n"
        "111222333;Jansen;123456782;1980-01-01;2021;1\n",
        encoding="utf-8",
    )
    out = tmp_path / "linked.csv"
    err = io.StringIO()
    call_command("pseudonymise", input=str(src), output=str(out), id_column="bsn", stderr=err)
    (row,) = csv.DictReader(out.open(encoding="utf-8"), delimiter=";")
    assert set(row) == {"linkage_key", "year", "bijstand"}
    text = out.read_text()
    assert "Jansen" not in text and "123456782" not in text and "1980-01-01" not in text
    for name in ("naam", "bsn_moeder", "geboortedatum"):
        assert f"column '{name}' holds direct identifiers" in err.getvalue()
