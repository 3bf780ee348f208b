"""Speed work on the family page must not change who sees it or what it shows:
`selectors.family_get_with_rights` (and `wave_get_with_rights`) answers 404 exactly when
`family_get` (`wave_get`) does and gives `access.family_rights`, which holds a right exactly
when `family_has_right` grants it (the views' 403 checks); the indicator rows read as plain
columns are the rows built from the indicator instances (the old code, kept as reference)."""

from __future__ import annotations

import pytest
from django.http import Http404
from django.utils.translation import get_language, override

from study import access, selectors
from study.catalogue import indicators_for
from study.roles import Role
from study.services.studies import membership_grant
from study.services.values import indicator_values_record
from tests.factories import make_family, make_user

pytestmark = pytest.mark.django_db


def _old_indicator_rows(family, waves, shown_of) -> list[dict]:
    language = get_language() or "nl"
    return [
        {
            "code": indicator.code,
            "label": indicator.label(language),
            "cells": [shown_of.get((wave.pk, indicator.code), "") for wave in waves],
        }
        for indicator in indicators_for(family.study)
    ]


@pytest.mark.parametrize("language", ["nl", "en", "en-gb"])
def test_the_indicator_rows_are_those_of_the_indicator_instances(language, family, researcher):
    indicator_values_record(
        wave=family.waves.get(index=1), values={"bijstand": 2, "ww": 1}, user=researcher
    )
    with override(language):
        context = selectors.family_detail(family)
        shown_of = {
            (wave.pk, row["code"]): cell
            for row in context["indicator_rows"]
            for wave, cell in zip(context["waves"], row["cells"], strict=True)
            if cell != ""
        }
        assert shown_of  # some values are shown
        old = _old_indicator_rows(family, context["waves"], shown_of)
        assert context["indicator_rows"] == old


def _users(study, coach, other_coach, researcher, data_manager, gemeente_user):
    inactive = make_user(Role.RESEARCHER)
    membership_grant(study=study, user=inactive, role=Role.RESEARCHER)
    inactive.is_active = False
    inactive.save()
    admin = make_user(None)
    admin.is_superuser = True
    admin.save()
    outsider = make_user(Role.RESEARCHER)
    return [coach, other_coach, researcher, data_manager, gemeente_user, inactive, admin, outsider]


def test_family_get_with_rights_is_family_get_and_family_rights(
    study, family, other_family, coach, other_coach, researcher, data_manager, gemeente_user
):
    deleted = make_family(study, user=researcher)
    deleted.is_deleted = True
    deleted.save()
    users = _users(study, coach, other_coach, researcher, data_manager, gemeente_user)
    for user in users:
        for pk in (family.pk, other_family.pk, deleted.pk, 999999, "x"):
            try:
                old = selectors.family_get(user, pk)
            except Http404:
                with pytest.raises(Http404):
                    selectors.family_get_with_rights(user, pk)
                continue
            got, rights = selectors.family_get_with_rights(user, pk)
            assert got == old
            assert rights == access.family_rights(user, old)
            # The views check a right in these rights instead of `require_family_right`.
            for right in access.Right:
                assert (right in rights) == access.family_has_right(user, old, right), right


def test_wave_get_with_rights_is_wave_get_and_family_rights(
    study, family, other_family, coach, other_coach, researcher, data_manager, gemeente_user
):
    deleted_family = make_family(study, user=researcher)
    deleted_family.is_deleted = True
    deleted_family.save()
    dead_wave = family.waves.get(index=2)
    dead_wave.is_deleted = True
    dead_wave.save()
    waves = [
        family.waves.get(index=1).pk,
        dead_wave.pk,
        other_family.waves.get(index=0).pk,
        deleted_family.waves.get(index=1).pk,
        999999,
        "x",
    ]
    users = _users(study, coach, other_coach, researcher, data_manager, gemeente_user)
    for user in users:
        for pk in waves:
            try:
                old = selectors.wave_get(user, pk)
            except Http404:
                with pytest.raises(Http404):
                    selectors.wave_get_with_rights(user, pk)
                continue
            got, rights = selectors.wave_get_with_rights(user, pk)
            assert got == old
            assert rights == access.family_rights(user, old.family)
            for right in access.Right:
                assert (right in rights) == access.family_has_right(user, old.family, right)
