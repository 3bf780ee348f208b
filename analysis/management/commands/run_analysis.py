"""Run a study's analysis to the end and print its results (for scripts)."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from analysis.did.inference import DEFAULT_METHODS
from analysis.models import AnalysisRun
from analysis.plans.plan_services import plan_check_for_run, plan_params
from analysis.runs.services import DEFAULT_PARAMS, analysis_run_execute
from study.models import Study

DIAGNOSTIC_KEYS = (
    "honest",
    "ipw",
    "robustness",
    "mde_planned",
    "ci_width",
    "eligibility_tied",
    "n_families_nonzero",
)


class Command(BaseCommand):
    help = "Answer a study's research questions now (in-process) and print the results."

    def add_arguments(self, parser):
        parser.add_argument("--study-id", type=int, required=True)
        # Left out, draws, seed and inference follow the study's frozen analysis plan.
        parser.add_argument(
            "--draws", type=int, help="wild-bootstrap draws as robustness (0 = off)"
        )
        parser.add_argument("--seed", type=int)
        parser.add_argument("--inference", choices=DEFAULT_METHODS)
        parser.add_argument(
            "--last-wave", type=int, help="interim analysis: waves up to T<N> only (default: all)"
        )
        parser.add_argument("--pdf", help="write the report's PDF to this path")
        parser.add_argument("--html", help="write the report's HTML to this path")
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument(
            "--no-diagnostics",
            dest="diagnostics",
            action="store_false",
            default=None,
            help="leave out HonestDiD, balance, IPW, robustness panel and MDE (issue 14)",
        )
        parser.add_argument(
            "--diagnostics",
            dest="diagnostics",
            action="store_true",
            help="compute the diagnostics even where the settings switch them off",
        )

    def handle(
        self,
        *args,
        study_id,
        draws,
        seed,
        inference,
        pdf,
        json: bool,
        html=None,
        last_wave=None,
        diagnostics=None,
        **options,
    ):
        study = Study.objects.filter(pk=study_id).first()
        if study is None:
            raise CommandError(f"no study with id {study_id}")
        try:
            plan = plan_check_for_run(study)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        given = {
            "inference": inference,
            "draws": draws,
            "seed": seed,
            "last_wave": last_wave,
            "diagnostics": diagnostics,
        }
        params = {
            **DEFAULT_PARAMS,
            **(plan_params(plan) if plan else {}),
            **{k: v for k, v in given.items() if v is not None},
            "price_year": study.price_year,
        }
        if plan:
            params["plan_version"] = plan.version
        run = AnalysisRun.objects.create(study=study, params=params, plan=plan)
        run = analysis_run_execute(run_id=run.pk)
        if run.status != AnalysisRun.Status.SUCCEEDED:
            raise CommandError(f"analysis run {run.pk} failed: {run.error}")
        _write_report(getattr(run, "report", None), pdf=pdf, html=html)
        summary = _summary(run)
        if json:
            import json as _json

            self.stdout.write(_json.dumps(summary, default=str))
            return
        for q in summary["questions"]:
            self.stdout.write(f"{q['code']}: {q['text']}")
            for o in q["outcomes"]:
                self.stdout.write(
                    f"  {o['outcome']:<28} {o['verdict']:<16} effect={o['effect']} "
                    f"ci=[{o['ci_low']}, {o['ci_high']}] p_adj={o['p_adjusted']} n={o['n_families']}"
                )


def _write_report(report, *, pdf: str | None, html: str | None) -> None:
    """--pdf and --html: the stored report's two renderings, written to files."""
    if report is None:
        return
    if pdf:
        if not report.pdf:
            raise CommandError(report.pdf_error or "the report has no PDF")
        with open(pdf, "wb") as fh:
            fh.write(bytes(report.pdf))
    if html:
        with open(html, "w", encoding="utf-8") as fh:
            fh.write(_standalone_html(report.html))


def _standalone_html(body: str) -> str:
    """The report's HTML as a page of its own (the report is Dutch)."""
    return (
        '<!doctype html><html lang="nl"><head><meta charset="utf-8">'
        "<title>Effectrapportage</title></head><body>" + body + "</body></html>\n"
    )


def _summary(run) -> dict:
    questions = []
    for q in run.results.get("questions", []):
        questions.append(
            {
                "code": q["code"],
                "text": q["text"],
                "not_answered": q.get("not_answered_reason") or None,
                "outcomes": [
                    {
                        "outcome": o["code"],
                        "effect": o.get("effect"),
                        "ci_low": o.get("ci_low"),
                        "ci_high": o.get("ci_high"),
                        "p_adjusted": o.get("p_adjusted"),
                        "n_families": o.get("n_units"),
                        "verdict": o.get("verdict"),
                        "error": o.get("error"),
                        "primary": bool(o.get("primary")),
                        **{k: o[k] for k in DIAGNOSTIC_KEYS if k in o},
                    }
                    for o in q["outcomes"]
                ],
            }
        )
    return {
        "run": run.pk,
        "study": run.study_id,
        "fingerprint": run.fingerprint,
        "questions": questions,
        "multiplicity": run.results.get("multiplicity"),
        "balance": run.results.get("balance"),
        "matching": run.results.get("matching"),
        "diagnostics": run.results.get("diagnostics"),
    }
