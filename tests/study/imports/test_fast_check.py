"""The set-based check (study/imports/fast.py) gives what the cell-by-cell check gives for a clean
CSV file (counts, summary, preview, entries), and hands every file with a problem, or any it does
not read exactly alike, to the cell-by-cell path (``None``)."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from study.catalogue import indicators_for
from study.imports.checking import extract_check
from study.imports.fast import fast_check
from study.imports.reading import read_extract
from study.models import Member
from study.services.values import indicator_values_record
from study.services.waves import wave_lock
from tests.factories import make_family

pytestmark = pytest.mark.django_db


@pytest.fixture
def fams(study, researcher):
    a = make_family(study, user=researcher, linkage_key="a" * 64)
    b = make_family(study, "comparison", user=researcher, linkage_key="b" * 64)
    Member.objects.filter(family=b, role="child").update(is_deleted=True)
    # Stored values, so a file has new, changed and unchanged cells.
    wave = a.waves.get(year=2021)
    indicator_values_record(
        wave=wave, values={"bijstand": 1, "debt_help": "refused"}, user=researcher, source="manual"
    )
    return a, b


def _both(study, content: bytes, layout: str = "auto"):
    codes = {i.code for i in indicators_for(study)}
    slow = extract_check(
        study, read_extract(content, "x.csv", indicator_codes=codes, layout=layout)
    )
    fast = fast_check(study, content, "x.csv", layout=layout)
    return slow, fast


def _same(slow, fast) -> None:
    assert not slow.problems
    assert fast is not None
    assert (fast.created, fast.updated, fast.unchanged) == (
        slow.created,
        slow.updated,
        slow.unchanged,
    )
    assert fast.summary == slow.summary
    assert fast.preview == slow.preview
    assert fast.frame.entries() == slow.entries


def _long(fams, rng: random.Random, codes: list[str], delimiter=",", crlf=False, blank=False):
    a, b = fams
    lines = [delimiter.join(["pseudonym", "year", "indicator", "value"])]
    for family in fams:
        for year in (2019, 2020, 2021, 2022):
            for code in rng.sample(codes, 6):
                value = rng.choice(["0", "1", " 1 ", "unknown", "refused", ""])
                if code.endswith("_eur"):
                    value = rng.choice(["125.5", "0", "1234,75" if delimiter != "," else "12"])
                if family is b and code.startswith("child"):
                    value = "0"
                lines.append(delimiter.join([family.pseudonym, str(year), code, value]))
            if blank:
                lines.append("")
    return ("\r\n" if crlf else "\n").join(lines).encode() + b"\n"


@pytest.mark.parametrize("seed", range(6))
def test_long_files_are_checked_alike(study, fams, seed):
    rng = random.Random(seed)
    codes = [i.code for i in indicators_for(study) if i.code != "bijstand"] + ["bijstand"]
    delimiter = [",", ";", "\t"][seed % 3]
    content = _long(fams, rng, codes, delimiter, crlf=seed % 2 == 1, blank=seed == 4)
    slow, fast = _both(study, content)
    if seed == 4:
        # Blank lines shift the line numbers: the cell-by-cell path numbers them.
        assert not slow.problems and fast is None
    else:
        _same(slow, fast)


def test_a_wide_file_is_checked_alike(study, fams):
    a, b = fams
    content = (
        "linkage_key;year;bijstand;debt_help;adult_ggz_basic_eur\n"
        f"{'A' * 64};2021;1;refused;12,5\n"
        f"{'b' * 64};2020;0;;unknown\n"
        f"{'a' * 64};2022;;1;0\n"
    ).encode()
    slow, fast = _both(study, content)
    _same(slow, fast)
    assert fast.layout == "wide" and fast.key_kind == "linkage_key"
    # A row of separators only is blank to the csv reader: cell by cell.
    with_blank = content.replace(b"\n", b"\n;;;;\n", 1)
    slow, fast = _both(study, with_blank)
    assert not slow.problems and fast is None


@pytest.mark.parametrize(
    "body",
    [
        "{a},2021,debt_help,7\n",  # out of range
        "{a},2021,bijstand,x\n",  # not a number
        "{a},2021,bijstand,onbekend-ish\n",
        "{a},2021,nope,1\n",  # unknown indicator
        "ZZZ,2021,bijstand,1\n",  # unknown family
        "{a},1990,bijstand,1\n",  # no wave
        "{a},20x1,bijstand,1\n",  # not a year
        "{a},2021,bijstand,1\n{a},2021,bijstand,0\n",  # duplicate
        "{b},2021,child_youth_care_ambulant,1\n",  # a child indicator, no child
        "{a},2021,bijstand\n",  # a row too short
        '{a},2021,bijstand,"1"\n',  # quotes: the csv reader's
        ",2021,bijstand,1\n",  # an empty key
    ],
)
def test_a_file_with_a_problem_goes_cell_by_cell(study, fams, body):
    a, b = fams
    content = (
        "pseudonym,year,indicator,value\n" + body.format(a=a.pseudonym, b=b.pseudonym)
    ).encode()
    assert fast_check(study, content, "x.csv") is None


def test_a_locked_wave_goes_cell_by_cell(study, fams, data_manager):
    a, _b = fams
    wave_lock(wave=a.waves.get(year=2021), user=data_manager)
    content = f"pseudonym,year,indicator,value\n{a.pseudonym},2021,bijstand,1\n".encode()
    assert fast_check(study, content, "x.csv") is None
    content = f"pseudonym,year,indicator,value\n{a.pseudonym},2022,bijstand,1\n".encode()
    assert fast_check(study, content, "x.csv") is not None


def test_values_are_the_services_own(study, fams):
    a, _b = fams
    content = f"pseudonym,year,indicator,value\n{a.pseudonym},2022,adult_ggz_basic_eur,1.5\n"
    fast = fast_check(study, content.encode(), "x.csv")
    assert fast is not None
    ((_key, entry),) = fast.frame.entries().items()
    assert entry.value == Decimal("1.50") and fast.frame.value[0] == "1.50"


def test_the_screens_prefilter_never_misses_a_bsn():
    """Every text in which the exact search finds a BSN has a long digit run by the prefilter
    (random cells of digits, separators and letters; real BSNs planted in half of them)."""
    from study.imports.screening import _long_digit_runs, _may_hold_bsn
    from study.linkage import bsn_is_valid

    rng = random.Random(11)
    bsns = [n for n in (f"{rng.randrange(10**8, 10**9)}" for _ in range(4000)) if bsn_is_valid(n)]
    found = 0
    for n in range(3000):
        cells = [
            "".join(rng.choice("0123456789 .-aX") for _ in range(rng.randrange(1, 14)))
            for _ in range(4)
        ]
        if n % 2:
            bsn = rng.choice(bsns)
            cells[rng.randrange(4)] = rng.choice(
                [bsn, bsn[1:], f"BSN{bsn}", f"{bsn[:4]}.{bsn[4:]}"]
            )
        text = ",".join(cells) + "\n"
        if _may_hold_bsn(text):
            found += 1
            assert _long_digit_runs(text), text
    assert found > 1000
