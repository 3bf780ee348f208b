"""The candidate pool of a matched study as a page: what was recorded (how many candidates, per
intake year, how many were selected, on which variables) and an upload that replaces it, through
the one service and screening (`study/services/matching.py`) the API and `record_candidates` use.
Only counts are shown: candidate keys are never listed."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from study import selectors
from study.forms import CandidatePoolForm
from study.imports.problems import ImportFileError
from study.models import Study
from study.services.matching import (
    KEY,
    SELECTED,
    SET,
    YEAR,
    candidates_from_csv,
    matching_candidates_record,
)


@login_required
def matching_candidates(request, study_id: int):
    # The import rule: who may import into the study may record its candidate pool.
    study = selectors.import_study_get(request.user, study_id)
    matched = study.allocation_method == Study.AllocationMethod.MATCHED
    form = CandidatePoolForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and matched and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            specs = candidates_from_csv(upload.read(), upload.name)
            n = matching_candidates_record(study=study, candidates=specs, user=request.user)
        except ImportFileError as exc:
            form.add_error("file", exc.message)
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error("file", message)
        else:
            messages.success(request, _("Candidate pool recorded: %(n)s candidates.") % {"n": n})
            return redirect("study:matching_candidates", study_id=study.pk)
    context = {
        "study": study,
        "matched": matched,
        "form": form,
        "pool": selectors.matching_pool_summary(study),
        "columns": {"key": KEY, "year": YEAR, "selected": SELECTED, "set": SET},
    }
    return render(request, "study/matching_candidates.html", context)
