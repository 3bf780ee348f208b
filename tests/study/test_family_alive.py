"""`Family.objects.alive()`: the live families, without those withdrawn in a study whose data
policy removes them - the same families as the rule's first form (live minus
`withdrawn_removed()`, a second read of the families), for every combination of deleted or
not, each status, and a study with a "remove" policy, a "keep" policy and no policy row."""

from __future__ import annotations

import pytest

from study.models import Family, StudyDataPolicy
from tests.factories import make_family, make_study

pytestmark = pytest.mark.django_db


def test_alive_is_live_minus_withdrawn_removed_for_every_kind_of_family():
    studies = [make_study(), make_study(), make_study()]
    StudyDataPolicy.objects.update_or_create(
        study=studies[0], defaults={"withdrawal": StudyDataPolicy.Withdrawal.REMOVE}
    )
    StudyDataPolicy.objects.update_or_create(
        study=studies[1], defaults={"withdrawal": StudyDataPolicy.Withdrawal.KEEP}
    )
    StudyDataPolicy.objects.filter(study=studies[2]).delete()  # no row: the defaults
    made = []
    for study in studies:
        for status in Family.Status.values:
            for deleted in (False, True):
                family = make_family(study)
                Family.objects.filter(pk=family.pk).update(status=status, is_deleted=deleted)
                made.append(family.pk)
    everyone = Family._base_manager.filter(pk__in=made)
    first_form = everyone.filter(is_deleted=False).exclude(
        pk__in=Family.objects.withdrawn_removed().values("pk")
    )
    alive = set(Family.objects.filter(pk__in=made).alive().values_list("pk", flat=True))
    assert alive == set(first_form.values_list("pk", flat=True))
    removed = set(
        Family.objects.withdrawn_removed().filter(pk__in=made).values_list("pk", flat=True)
    )
    assert len(removed) == 1  # the one live withdrawn family of the "remove" study
    assert len(alive) == len(studies) * len(Family.Status.values) - 1
