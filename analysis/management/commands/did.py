"""`manage.py did`: run a difference-in-differences estimator on a panel CSV (no database)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

ESTIMATORS = ("twfe", "event", "cs")
INFERENCE = {"twfe": ("cr2", "wild", "ri"), "event": ("cr2", "wild", "ri")}
CS_INFERENCE = ("analytic", "bootstrap")
CS_DEFAULT_DRAWS = 999


def _plain(value: Any) -> Any:
    """JSON-ready copy: numpy scalars to Python, NaN and infinities to null."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _fmt(value: Any, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return "-" if not math.isfinite(value) else f"{value:.{digits}f}"
    return str(value)


class Command(BaseCommand):
    # Plain text: argparse cannot format a lazy translation.
    help = (
        "Run a difference-in-differences estimator (twfe, event study or Callaway & Sant'Anna)"
        " on a long panel CSV. Reads no database."
    )
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--input", required=True, help=_("panel CSV, one row per unit and period")
        )
        parser.add_argument("--unit", required=True, help=_("unit (family) id column"))
        parser.add_argument("--time", required=True, help=_("period column"))
        parser.add_argument(
            "--cohort",
            required=True,
            help=_("first treated period column; 0 or empty for the comparison arm"),
        )
        parser.add_argument("--outcome", required=True, help=_("outcome column"))
        parser.add_argument("--estimator", default="twfe", help="twfe | event | cs (default twfe)")
        parser.add_argument("--control", default="never", help="never | notyet (cs)")
        parser.add_argument("--base-period", default="varying", help="varying | universal (cs)")
        parser.add_argument("--covariates", default="", help=_("comma-separated covariate columns"))
        parser.add_argument("--method", default="dr", help="dr | ipw | reg (cs)")
        parser.add_argument(
            "--inference",
            default=None,
            help=_("twfe/event: cr2 (default), wild, ri; cs: analytic (default), bootstrap"),
        )
        parser.add_argument(
            "--bootstrap",
            type=int,
            default=None,
            help=_("number of bootstrap or permutation draws"),
        )
        parser.add_argument("--seed", type=int, default=None, help=_("random seed"))
        parser.add_argument("--json", action="store_true", help=_("print one JSON object"))

    def handle(self, *args: Any, **options: Any) -> None:
        estimator = options["estimator"]
        if estimator not in ESTIMATORS:
            raise CommandError(
                _("unknown --estimator %(value)s; choose twfe, event or cs") % {"value": estimator}
            )
        df = self._read(options["input"])
        covariates = tuple(c.strip() for c in options["covariates"].split(",") if c.strip())
        runner = {"cs": self._cs, "twfe": self._twfe, "event": self._event}[estimator]
        try:
            result = runner(df, options, covariates)
        except CommandError:
            raise
        except ImportError as exc:
            raise CommandError(
                _("the %(estimator)s estimator is not available: %(error)s")
                % {"estimator": estimator, "error": _one_line(exc)}
            ) from None
        except (ValueError, KeyError, TypeError, np.linalg.LinAlgError) as exc:
            # PanelError and CsError are ValueErrors; the message names the column/row.
            raise CommandError(_one_line(exc)) from None
        payload = _plain({"estimator": estimator, **result.to_dict()})
        if options["json"]:
            self.stdout.write(json.dumps(payload, allow_nan=False))
        else:
            self.stdout.write(_TABLES[estimator](payload))

    # ------------------------------------------------------------------ input

    def _read(self, path: str) -> pd.DataFrame:
        file = Path(path)
        if not file.is_file():
            raise CommandError(_("input file not found: %(path)s") % {"path": path})
        try:
            df = pd.read_csv(file)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise CommandError(
                _("cannot read %(path)s as CSV: %(error)s")
                % {"path": path, "error": _one_line(exc)}
            ) from None
        if df.empty:
            raise CommandError(_("input file has no rows: %(path)s") % {"path": path})
        return df

    # ------------------------------------------------------------------ estimators

    def _cs(self, df: pd.DataFrame, options: dict[str, Any], covariates: tuple[str, ...]) -> Any:
        from analysis.did.cs import callaway_santanna

        inference = options["inference"] or ("bootstrap" if options["bootstrap"] else "analytic")
        if inference not in CS_INFERENCE:
            raise CommandError(
                _("--inference %(value)s does not apply to cs; use analytic or bootstrap")
                % {"value": inference}
            )
        draws = None
        if inference == "bootstrap":
            draws = options["bootstrap"] or CS_DEFAULT_DRAWS
        return callaway_santanna(
            df,
            unit=options["unit"],
            time=options["time"],
            cohort=options["cohort"],
            outcome=options["outcome"],
            control=options["control"],
            base_period=options["base_period"],
            covariates=covariates,
            method=options["method"],
            bootstrap=draws,
            seed=options["seed"],
        )

    def _inference(self, estimator: str, options: dict[str, Any]) -> str:
        inference = options["inference"] or "cr2"
        if inference not in INFERENCE[estimator]:
            raise CommandError(
                _("--inference %(value)s does not apply to %(estimator)s; use cr2, wild or ri")
                % {"value": inference, "estimator": estimator}
            )
        self._refuse_cs_options(estimator, options)
        return inference

    def _refuse_cs_options(self, estimator: str, options: dict[str, Any]) -> None:
        defaults = {"control": "never", "base_period": "varying", "method": "dr"}
        for name, default in defaults.items():
            if options[name] != default:
                raise CommandError(
                    _("--%(option)s only applies to --estimator cs, not %(estimator)s")
                    % {"option": name.replace("_", "-"), "estimator": estimator}
                )

    def _twfe(self, df: pd.DataFrame, options: dict[str, Any], covariates: tuple[str, ...]) -> Any:
        inference = self._inference("twfe", options)
        try:
            from analysis.did.twfe import twfe
        except ImportError:
            raise CommandError(_("the twfe estimator is not available yet")) from None
        kwargs: dict[str, Any] = {"seed": options["seed"]}
        if options["bootstrap"]:
            kwargs["draws"] = options["bootstrap"]
        return twfe(
            df,
            unit=options["unit"],
            time=options["time"],
            cohort=options["cohort"],
            outcome=options["outcome"],
            covariates=covariates,
            inference=inference,
            **kwargs,
        )

    def _event(self, df: pd.DataFrame, options: dict[str, Any], covariates: tuple[str, ...]) -> Any:
        inference = self._inference("event", options)
        try:
            from analysis.did.event_study import event_study
        except ImportError:
            raise CommandError(_("the event-study estimator is not available yet")) from None
        return event_study(
            df,
            unit=options["unit"],
            time=options["time"],
            cohort=options["cohort"],
            outcome=options["outcome"],
            inference=inference,
            covariates=covariates,
        )


def _one_line(exc: BaseException) -> str:
    text = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
    return " ".join(text.split()) or type(exc).__name__


# ---------------------------------------------------------------------- readable tables


def _row(cells: list[Any], widths: list[int]) -> str:
    return "  ".join(_fmt(c).rjust(w) for c, w in zip(cells, widths, strict=True))


def _estimate_line(label: str, est: dict[str, Any]) -> str:
    ci = f"[{_fmt(est.get('ci_low'))}, {_fmt(est.get('ci_high'))}]"
    return f"{label:<22}{_fmt(est.get('att')):>10}  ({_fmt(est.get('se'))})  {ci}"


def _cs_table(out: dict[str, Any]) -> str:
    s = out["settings"]
    lines = [
        _("Callaway & Sant'Anna (2021)")
        + f": control={s['control']}, base period={s['base_period']}, method={s['method']},"
        + f" inference={s['inference']}, units={out['n_units']}, rows={out['n_obs']}",
        "",
        _("Group-time effects ATT(g,t)"),
        _row(
            ["group", "time", "att", "se", "ci_low", "ci_high", "n_treated", ""],
            [6, 6, 9, 8, 9, 9, 9, 5],
        ),
    ]
    for c in out["group_time"]:
        flag = "<5" if c["small_cell"] else ""
        cells = [
            c["group"],
            c["time"],
            c["att"],
            c["se"],
            c["ci_low"],
            c["ci_high"],
            c["n_treated"],
            flag,
        ]
        lines.append(_row(cells, [6, 6, 9, 8, 9, 9, 9, 5]))
    lines += ["", _estimate_line(_("Simple (overall)"), out["simple"])]
    for kind, key, label in (
        ("dynamic", "event", _("Dynamic (event time e)")),
        ("group", "groups", _("By cohort")),
        ("calendar", "periods", _("By calendar period")),
    ):
        agg = out[kind]
        lines += ["", _estimate_line(label, agg["overall"])]
        for lev in agg[key]:
            level = next(iter(lev.values()))
            lines.append(_estimate_line(f"  {level}", lev))
    if out["pretest"]:
        p = out["pretest"]
        lines += [
            "",
            _("Pre-test (all pre-treatment ATT(g,t) = 0)")
            + f": W = {_fmt(p['W'], 3)}, df = {p['df']}, p = {_fmt(p['p'], 4)}",
            _("A passed pre-test is weak evidence for parallel trends, not proof."),
        ]
    lines += _warning_lines(out)
    return "\n".join(lines)


def _twfe_table(out: dict[str, Any]) -> str:
    lines = [_("Two-way fixed effects DiD")]
    lines += [
        f"  {key:<18}{_fmt(value)}"
        for key, value in out.items()
        if not isinstance(value, dict | list) and key != "estimator"
    ]
    cohorts = out.get("n_treated_by_cohort") or {}
    if cohorts:
        lines.append(
            f"  {'treated by cohort':<18}" + ", ".join(f"{g}: {n}" for g, n in cohorts.items())
        )
    robustness = out.get("robustness") or {}
    if robustness:
        widths = [6, 8, 8, 8, 9, 9]
        lines += [
            "",
            _("Inference compared"),
            _row(["method", "se", "df", "p", "ci_low", "ci_high"], widths),
        ]
        for name, r in robustness.items():
            cells = [
                name,
                r.get("se"),
                r.get("df"),
                r.get("p_value"),
                r.get("ci_low"),
                r.get("ci_high"),
            ]
            lines.append(_row(cells, widths))
    lines += _warning_lines(out)
    return "\n".join(lines)


def _event_table(out: dict[str, Any]) -> str:
    lines = [_("Event study"), _row(["e", "att", "se", "ci_low", "ci_high"], [4, 9, 8, 9, 9])]
    for row in out.get("event", []):
        cells = [row.get("e"), row.get("att"), row.get("se"), row.get("ci_low"), row.get("ci_high")]
        lines.append(_row(cells, [4, 9, 8, 9, 9]))
    lines += [
        "",
        _("Joint pre-trend test p = %(p)s") % {"p": _fmt(out.get("pretrend_p"))},
        _("A passed pre-test is weak evidence for parallel trends, not proof."),
    ]
    honest = out.get("honest") or []
    if honest:
        lines += ["", _("HonestDiD relative-magnitude bounds")]
        lines += ["  " + ", ".join(f"{k}={_fmt(v)}" for k, v in row.items()) for row in honest]
    if "breakdown_mbar" in out:
        lines.append(_("Breakdown value Mbar = %(m)s") % {"m": _fmt(out["breakdown_mbar"], 2)})
    lines += _warning_lines(out)
    return "\n".join(lines)


def _warning_lines(out: dict[str, Any]) -> list[str]:
    notes = out.get("warnings") or []
    return ["", _("Warnings:")] + [f"  - {w}" for w in notes] if notes else []


_TABLES = {"cs": _cs_table, "twfe": _twfe_table, "event": _event_table}
