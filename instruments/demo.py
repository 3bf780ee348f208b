"""The demo study's instruments: the generator's MANSA-12 answers (study/demo_data.py) stored as
administrations of the shipped version, scored by instruments/scoring.py, in one bulk insert."""

from __future__ import annotations

from simple_history.utils import bulk_create_with_history

from instruments.models import Administration, InstrumentVersion
from instruments.scoring import score_all
from instruments.services import instruments_ensure_shipped
from study.demo_data import DemoData
from study.models import MissingCode, Source, Study, Wave


def demo_instruments_seed(*, study: Study, data: DemoData, users: dict) -> int:
    """Administrations for every generated answer set; returns how many. Families of the study
    are matched to the generator's in enrolment order (study/demo.py enrols them in that order)."""
    instruments_ensure_shipped()
    versions = {(v.code, v.version): v for v in InstrumentVersion.objects.filter(study=None)}
    families = list(study.families.order_by("pk").values_list("pk", flat=True))
    waves = {(w.family_id, w.index): w for w in Wave.objects.filter(family__study=study)}
    rows = []
    for family_id, fam in zip(families, data.families, strict=True):
        for index, by_code in fam.instruments.items():
            for code, answers in by_code.items():
                version = versions[(code, 1)]
                given = {k: v for k, v in answers.items() if v is not None}
                rows.append(
                    Administration(
                        wave=waves[(family_id, index)],
                        instrument_version=version,
                        instrument_code=code,
                        answers=given,
                        missing_codes={
                            k: MissingCode.REFUSED.value for k, v in answers.items() if v is None
                        },
                        scores=score_all(version.parsed, given),
                        mode=Administration.Mode.RESEARCHER,
                        source=Source.DEMO,
                        recorded_by=users.get("onderzoeker"),
                    )
                )
    bulk_create_with_history(
        rows, Administration, default_change_reason="demo seed", batch_size=2000
    )
    return len(rows)
