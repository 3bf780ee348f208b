"""`manage.py monitor`: MPG counts per municipality and wijk from a household-year extract."""

from __future__ import annotations

import json
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from analysis.monitor import pipeline, runner, services, summary
from analysis.monitor.tables import HEADLINE_COLUMNS


class Command(BaseCommand):
    help = "Count households with problems in the three domains (MVP) and MPG, per municipality and wijk."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--input", required=True, help="household-year extract (.csv or .parquet)"
        )
        parser.add_argument(
            "--year", required=True, type=int, help="reporting year Y (needs Y-1 and Y-2)"
        )
        parser.add_argument(
            "--no-suppress", action="store_true", help="print counts 1-9 (internal use only)"
        )
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
        parser.add_argument(
            "--cost-per-family", type=float, default=None, help="EUR per MPG per year"
        )
        parser.add_argument(
            "--full",
            action="store_true",
            help="JSON: add the report's full tables (all indicators)",
        )
        parser.add_argument(
            "--trend-from",
            type=int,
            default=None,
            help="also report MPG per year from this reporting year to --year, with trend tests",
        )
        parser.add_argument(
            "--workers",
            type=int,
            default=None,
            help="processes for a Parquet file without a broker (default: MONITOR_WORKERS, "
            "as the file's size warrants)",
        )
        parser.add_argument(
            "--save",
            action="store_true",
            help="store one unpublished, suppressed report per municipality (the monitor pages)",
        )

    def handle(self, *args, **options) -> None:
        path = Path(options["input"])
        if path.suffix.lower() not in (".csv", ".parquet"):
            raise CommandError(
                _("%(file)s: the file must be .csv or .parquet") % {"file": path.name}
            )
        if not path.exists():
            raise CommandError(_("%(file)s: file not found") % {"file": path})
        year = options["year"]
        # One Celery task per municipality with a broker, a process pool without one.
        combined = runner.monitor_count(path=path, year=year, workers=options["workers"])
        if combined["errors"]:
            raise CommandError(
                _("The extract cannot be used:") + "\n" + "\n".join(combined["errors"][:50])
            )
        figures = summary.monitor_summary(
            counts=pipeline.counts_frame(combined),
            year=year,
            suppress=not options["no_suppress"],
            cost_per_family=options["cost_per_family"],
            full=options["full"],
        )
        if options["trend_from"] is not None:
            if options["trend_from"] >= year:
                raise CommandError(_("--trend-from must be before --year"))
            trend = summary.monitor_trend(
                path=path,
                years=list(range(options["trend_from"], year + 1)),
                suppress=not options["no_suppress"],
                cost_per_family=options["cost_per_family"],
            )
            if trend["errors"]:
                raise CommandError(
                    _("The extract cannot be used:") + "\n" + "\n".join(trend["errors"][:50])
                )
            figures["trend"] = trend
        if options["json"]:
            self.stdout.write(json.dumps(figures, ensure_ascii=False, indent=2))
        else:
            self._print_table(figures)
        if options["save"]:
            self._save(path, year, combined)

    def _save(self, path: Path, year: int, combined: dict) -> None:
        try:
            reports = services.monitor_reports_save(path=path, year=year, combined=combined)
        except ValidationError as exc:
            raise CommandError(
                _("The extract cannot be used:") + "\n" + "\n".join(exc.messages)
            ) from exc
        for report in reports:
            self.stderr.write(
                _(
                    "Stored monitor report %(id)s: %(municipality)s %(year)s (cost per MPG: %(source)s)"
                )
                % {
                    "id": report.pk,
                    "municipality": report.municipality,
                    "year": report.year,
                    "source": report.cost.get("source"),
                }
            )

    def _print_table(self, summary: dict) -> None:
        header = ["municipality / wijk", *HEADLINE_COLUMNS, "mpg_total_cost_eur"]
        self.stdout.write(_("Reporting year %(year)s") % {"year": summary["year"]})
        self.stdout.write("\t".join(header))
        for entry in summary["municipalities"]:
            self.stdout.write(
                "\t".join(
                    str(entry[c]) for c in ["municipality", *HEADLINE_COLUMNS, "mpg_total_cost_eur"]
                )
            )
            for wijk in entry["wijken"]:
                self.stdout.write(
                    "\t".join(["  " + str(wijk["wijk"]), *(str(wijk[c]) for c in HEADLINE_COLUMNS)])
                )
        trend = summary.get("trend")
        if trend:
            self.stdout.write(_("MPG per year and trend (rate ratio per year, 95% interval, p)"))
            for entry in trend["municipalities"]:
                if entry.get("trend") == "*":
                    self.stdout.write(f"{entry['municipality']}\t*")
                    continue
                counts = " ".join(f"{r['year']}:{r['mpg']}" for r in entry["per_year"])
                t = entry.get("mpg_trend")
                line = f"{entry['municipality']}\t{counts}"
                if t:
                    line += (
                        f"\t{t['rate_ratio_per_year']:.3f} [{t['ci_low']:.3f}, {t['ci_high']:.3f}]"
                        f" p={t['p_value']:.3g}"
                    )
                self.stdout.write(line)
