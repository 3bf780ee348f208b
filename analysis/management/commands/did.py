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

ESTIMATORS = ("twfe", "event", "cs", "aligned")
INFERENCE = {"twfe": ("cr2", "wild", "ri"), "event": ("cr2", "wild", "ri")}
ALIGNED_MODELS = ("linear", "lpm", "ppml")
ALIGNED_INFERENCE = {"linear": ("cr2", "cr1", "cv3", "wild"), "ppml": ("cr1", "cr2")}
T0_MODES = ("own", "drop", "baseline")
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
        "Run a difference-in-differences estimator (twfe, event study, Callaway & Sant'Anna or"
        " the intake-aligned design) on a long panel CSV. Reads no database."
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
            default=None,
            help=_(
                "first treated period column; 0 or empty for the comparison arm"
                " (twfe, event, cs; ignored by aligned)"
            ),
        )
        parser.add_argument("--outcome", required=True, help=_("outcome column"))
        parser.add_argument(
            "--estimator", default="twfe", help="twfe | event | cs | aligned (default twfe)"
        )
        parser.add_argument(
            "--arm", default=None, help=_("aligned: arm column, 1 intervention, 0 comparison")
        )
        parser.add_argument(
            "--intake", default=None, help=_("aligned: column with the calendar year of T0")
        )
        parser.add_argument(
            "--t0",
            default="own",
            help=_("aligned: own (T0 its own coefficient, default), drop, baseline (survey)"),
        )
        parser.add_argument(
            "--model", default="linear", help=_("aligned: linear (default), lpm or ppml")
        )
        parser.add_argument("--control", default="never", help="never | notyet (cs)")
        parser.add_argument("--base-period", default="varying", help="varying | universal (cs)")
        parser.add_argument("--covariates", default="", help=_("comma-separated covariate columns"))
        parser.add_argument("--method", default="dr", help="dr | ipw | reg (cs)")
        parser.add_argument(
            "--inference",
            default=None,
            help=_(
                "twfe/event: cr2 (default), wild, ri; cs: analytic (default), bootstrap;"
                " aligned: cr2 (default), cr1, cv3, wild; aligned ppml: cr1 (default), cr2"
            ),
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
                _("unknown --estimator %(value)s; choose twfe, event, cs or aligned")
                % {"value": estimator}
            )
        self._check_design_columns(estimator, options)
        df = self._read(options["input"])
        covariates = tuple(c.strip() for c in options["covariates"].split(",") if c.strip())
        runner = {
            "cs": self._cs,
            "twfe": self._twfe,
            "event": self._event,
            "aligned": self._aligned,
        }[estimator]
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
        if estimator == "aligned":
            payload = _plain(result.payload())
        if options["json"]:
            self.stdout.write(json.dumps(payload, allow_nan=False))
        else:
            self.stdout.write(_TABLES[estimator](payload))

    # ------------------------------------------------------------------ input

    def _check_design_columns(self, estimator: str, options: dict[str, Any]) -> None:
        if estimator != "aligned":
            if not options["cohort"]:
                raise CommandError(
                    _("--cohort is required for --estimator %(estimator)s")
                    % {"estimator": estimator}
                )
            for name in ("arm", "intake"):
                if options[name]:
                    raise CommandError(
                        _("--%(option)s only applies to --estimator aligned") % {"option": name}
                    )
            return
        missing = [f"--{name}" for name in ("arm", "intake") if not options[name]]
        if missing:
            raise CommandError(
                _("--estimator aligned needs %(options)s") % {"options": " and ".join(missing)}
            )
        if options["t0"] not in T0_MODES:
            raise CommandError(
                _("unknown --t0 %(value)s; choose own, drop or baseline") % {"value": options["t0"]}
            )
        if options["model"] not in ALIGNED_MODELS:
            raise CommandError(
                _("unknown --model %(value)s; choose linear, lpm or ppml")
                % {"value": options["model"]}
            )

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

    def _aligned(
        self, df: pd.DataFrame, options: dict[str, Any], covariates: tuple[str, ...]
    ) -> Any:
        if covariates:
            raise CommandError(_("--covariates does not apply to --estimator aligned"))
        self._refuse_cs_options("aligned", options)
        model = options["model"]
        choices = ALIGNED_INFERENCE["ppml" if model == "ppml" else "linear"]
        inference = options["inference"] or choices[0]
        if inference not in choices:
            raise CommandError(
                _(
                    "--inference %(value)s does not apply to the aligned %(model)s model; use %(choices)s"
                )
                % {"value": inference, "model": model, "choices": ", ".join(choices)}
            )
        from analysis.did.aligned_summary import aligned_summary

        return aligned_summary(
            df,
            unit=options["unit"],
            time=options["time"],
            arm=options["arm"],
            intake=options["intake"],
            outcome=options["outcome"],
            t0=options["t0"],
            model=model,
            inference=inference,
            draws=options["bootstrap"] or 9999,
            seed=options["seed"],
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


def _aligned_table(out: dict[str, Any]) -> str:
    lines = [
        _("Intake-aligned DiD")
        + f" ({out['model']}, T0 {out['t0']}, {out['inference']}, {out['scale']})",
        f"  {'effect':<18}{_fmt(out['att'])}  ({_fmt(out['se'])})"
        f"  [{_fmt(out['ci_low'])}, {_fmt(out['ci_high'])}]  df = {_fmt(out['df'], 1)}"
        f"  p = {_fmt(out['p'])}",
    ]
    t0 = out.get("t0_effect")
    if t0:
        lines.append(
            f"  {'T0 (own)':<18}{_fmt(t0['estimate'])}  ({_fmt(t0['se'])})  p = {_fmt(t0['p_value'])}"
        )
    lines += [
        f"  {'families':<18}{out['n_intervention']} intervention, {out['n_comparison']} comparison,"
        f" {out['n_obs']} rows",
        f"  {'dropped e dummies':<18}"
        + (", ".join(str(e) for e in out["dropped_event_times"]) or "-"),
    ]
    alternatives = out.get("alternatives") or {}
    if alternatives:
        lines += ["", _("Alternative estimators")]
        lines += [_estimate_line(f"  {name}", est) for name, est in alternatives.items()]
    es = out["event_study"]
    widths = [4, 9, 8, 9, 9, 9, 9]
    lines += [
        "",
        _("Aligned event study (reference T%(ref)s)") % {"ref": es["ref"]},
        _row(["e", "att", "se", "ci_low", "ci_high", "band_low", "band_high"], widths),
    ]
    for r in es["event"]:
        cells = [
            r["e"],
            r["att"],
            r["se"],
            r["ci_low"],
            r["ci_high"],
            r["band_low"],
            r["band_high"],
        ]
        lines.append(_row(cells, widths))
    pre = es.get("pretest")
    if pre:
        lines.append(
            _("Joint pre-test (%(times)s): F = %(F)s, p = %(p)s")
            % {
                "times": ", ".join(str(e) for e in pre["event_times"]),
                "F": _fmt(pre["F"], 3),
                "p": _fmt(pre["p_value"]),
            }
        )
    lines += _warning_lines(out)
    return "\n".join(lines)


def _warning_lines(out: dict[str, Any]) -> list[str]:
    notes = out.get("warnings") or []
    return ["", _("Warnings:")] + [f"  - {w}" for w in notes] if notes else []


_TABLES = {"cs": _cs_table, "twfe": _twfe_table, "event": _event_table, "aligned": _aligned_table}
