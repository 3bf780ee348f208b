"""The fast form renderer (tracker/form_renderer.py, issue 21) writes byte for byte what Django's
template renderer writes: for every form class of the project, unbound and bound, in Dutch and
English, and for the cases a Python copy of a template gets wrong most easily."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from unittest import mock

import django
import pytest
from django import forms
from django.conf import settings
from django.forms.renderers import DjangoTemplates, get_default_renderer
from django.template.backends.django import DjangoTemplates as DjangoTemplatesBackend
from django.utils import translation
from django.utils.datastructures import MultiValueDict
from django.utils.functional import cached_property
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from instruments.library import shipped
from study.catalogue import indicators_for
from tracker.form_renderer import SOURCES, FastTemplates

SLOW = DjangoTemplates()
JUNK = "<b>&\"' x"
FORM_PACKAGES = ("study", "instruments", "analysis", "tracker")


def renderings(form: forms.BaseForm) -> dict[str, str]:
    """Every way the project's templates show a form: whole, field by field, label, legend and
    errors, and each option of a choice (`{% for radio in field %}{{ radio.tag }}`)."""
    pieces = {
        "as_div": form.as_div(),
        "as_p": form.as_p(),
        "as_table": form.as_table(),
        "as_ul": form.as_ul(),
        "non_field_errors": str(form.non_field_errors()),
    }
    for field in form:
        pieces[field.name] = str(field)
        pieces[f"{field.name} label_tag"] = field.label_tag()
        pieces[f"{field.name} legend_tag"] = field.legend_tag()
        pieces[f"{field.name} errors"] = str(field.errors)
        if isinstance(field.field.widget, forms.Select):
            continue  # the options of a select are rendered with it, never one by one
        for i, widget in enumerate(field.subwidgets):
            pieces[f"{field.name} tag {i}"] = widget.tag()
            pieces[f"{field.name} subwidget {i}"] = str(widget)
    return pieces


def assert_same(build) -> dict[str, str]:
    """`build(renderer)` makes a form; the fast renderer's pieces equal the templates'."""
    fast = renderings(build(FastTemplates()))
    slow = renderings(build(SLOW))
    assert fast.keys() == slow.keys()
    for key in slow:
        assert fast[key] == slow[key], key
    return fast


# --- every form of the project ---------------------------------------------------------------


def project_form_classes() -> list[type[forms.BaseForm]]:
    classes: dict[str, type[forms.BaseForm]] = {}
    for package_name in FORM_PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.walk_packages(package.__path__, f"{package_name}."):
            if ".migrations" in info.name or ".management" in info.name:
                continue
            module = importlib.import_module(info.name)
            for obj in vars(module).values():
                if (
                    inspect.isclass(obj)
                    and issubclass(obj, forms.BaseForm)
                    and obj.__module__ == module.__name__
                ):
                    classes[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return [classes[name] for name in sorted(classes)]


def _listed():
    from study.models import CareCatalogueEntry

    return CareCatalogueEntry.objects.all()


def _coaches():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.all()[:3]


NOW = datetime(2024, 5, 6, 12, 30, tzinfo=UTC)
CARE = {"organisations": ["Wijkteam <Noord>", "GGD & co"], "disciplines": ["Coach"]}

# The arguments a form needs beyond data and renderer (its view passes them), by class name.
ARGUMENTS = {
    "study.forms.WaveEntryForm": lambda study, family: {
        "indicators": indicators_for(study),
        "current": {"ww": ("1.5", ""), "moves": ("", "refused")},
        "suggestions": {"bijstand": ("2", "", "T0 <2021>")},
    },
    "study.forms.EnrolForm": lambda study, family: {"initial": {"intake_date": date(2024, 1, 2)}},
    "study.forms.ContactForm": lambda study, family: {
        "now": NOW,
        "initial": {"form_token": "token"},
    },
    "study.forms.ContactCorrectForm": lambda study, family: {"initial": {"note": "<i>n</i>"}},
    "study.forms.InvolvementForm": lambda study, family: {"today": date(2024, 1, 2), **CARE},
    "study.forms.InvolvementCorrectForm": lambda study, family: dict(CARE),
    "study.setup_forms.CaseloadForm": lambda study, family: {
        "coaches": list(_coaches()),
        "families": [family],
    },
    "study.setup_forms.NotesGrantForm": lambda study, family: {
        "choices": [("1", "Family <1> & coach"), ("2", 1234)]
    },
    "instruments.forms.InstrumentForm": lambda study, family: {
        "definition": shipped()[0],
        "language": translation.get_language(),
    },
    "study.views.care_catalogue.MergeForm": lambda study, family: {"listed": _listed()},
    "study.views.care_catalogue.CodeForm": lambda study, family: {"listed": _listed()},
}


def _choice_values(field: forms.Field) -> list[str]:
    values: list[str] = []
    for value, label in getattr(field, "choices", ()):
        if isinstance(label, (list, tuple)):
            values.extend(str(v) for v, _label in label)
        elif str(value):
            values.append(str(value))
    return values


def junk_data(form: forms.BaseForm) -> MultiValueDict:
    """What fails every field: markup characters where numbers, dates and choices belong."""
    data: MultiValueDict[str, str] = MultiValueDict()
    for name, field in form.fields.items():
        values = [JUNK]
        if isinstance(field, forms.MultipleChoiceField):
            values += _choice_values(field)[:1]
        data.setlist(form.add_prefix(name), values)
    return data


def chosen_data(form: forms.BaseForm) -> MultiValueDict:
    """A choice picked in every choice field (selected, checked), boxes ticked, and numbers."""
    data: MultiValueDict[str, str] = MultiValueDict()
    for name, field in form.fields.items():
        choices = _choice_values(field)
        if isinstance(field, forms.MultipleChoiceField):
            values = choices
        elif choices:
            values = choices[-1:]
        elif isinstance(field, forms.BooleanField):
            values = ["on"]
        else:
            values = ["1234,5"]
        data.setlist(form.add_prefix(name), values)
    return data


@pytest.fixture
def care_entries(study, data_manager):
    from study.models import CareCatalogueEntry
    from study.services import care_catalogue

    for kind, name in ((CareCatalogueEntry.Kind.ORGANISATION, "Wijkteam <Noord> & co"),):
        care_catalogue.care_catalogue_add(study=study, kind=kind, name=name, user=data_manager)


@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_form_of_the_project_renders_as_the_templates_render_it(
    study, family, care_entries, language
):
    classes = project_form_classes()
    assert len(classes) >= 35, [c.__name__ for c in classes]
    rendered = []
    with translation.override(language):
        for cls in classes:
            name = f"{cls.__module__}.{cls.__qualname__}"
            kwargs = ARGUMENTS.get(name, lambda study, family: {})(study, family)
            for variant in ("unbound", "junk", "chosen"):

                def build(renderer, cls=cls, kwargs=kwargs, variant=variant):
                    form = cls(renderer=renderer, **kwargs)
                    if variant != "unbound":
                        make = junk_data if variant == "junk" else chosen_data
                        form = cls(make(form), renderer=renderer, **kwargs)
                        form.is_valid()
                    return form

                try:
                    assert_same(build)
                except AssertionError as error:
                    raise AssertionError(f"{name} ({variant}, {language}): {error}") from error
            rendered.append(name)
    assert (
        "study.forms.WaveEntryForm" in rendered and "study.setup_forms.StudySetUpForm" in rendered
    )


def test_the_wave_entry_form_read_only_and_the_member_formset_render_alike(study):
    from study.forms import MemberForm, MemberFormSet, WaveEntryForm

    def entry(renderer):
        return WaveEntryForm(indicators=indicators_for(study), read_only=True, renderer=renderer)

    pieces = assert_same(entry)
    assert " disabled" in pieces["as_div"]

    data = {"members-TOTAL_FORMS": "2", "members-INITIAL_FORMS": "0", "members-0-role": JUNK}
    for bound in (None, data):
        fast, slow = (
            forms.formset_factory(
                MemberForm, extra=MemberFormSet.extra, max_num=MemberFormSet.max_num, renderer=r
            )(bound, prefix="members")
            for r in (FastTemplates(), SLOW)
        )
        assert fast.as_div() == slow.as_div()
        assert [renderings(f) for f in fast] == [renderings(f) for f in slow]


@pytest.mark.parametrize("language", ["nl", "en"])
def test_every_shipped_instrument_form_renders_alike(language):
    from instruments.forms import InstrumentForm

    for definition in shipped():
        first = definition.items[0].code

        def build(renderer, definition=definition, first=first):
            return InstrumentForm(
                {first: JUNK},
                definition=definition,
                language=language,
                initial_missing={first: "refused"},
                renderer=renderer,
            )

        with translation.override(language):
            assert_same(build)


# --- the tricky cases ---------------------------------------------------------------------


class RawTextarea(forms.Textarea):
    """A textarea that hands its value to the template as it is (a number stays a number)."""

    def format_value(self, value):
        return value


class Tricky(forms.Form):
    choice = forms.ChoiceField(
        label=mark_safe("<em>Safe</em> label"),
        choices=[
            ("", "—"),
            ("<a>&\"'", "<b>&\"'"),
            (1, 1000),
            (Decimal("1234.5"), Decimal("1234.5")),
            ("safe", mark_safe("<i>x</i> &amp;")),
            (mark_safe("&amp;"), "safe value"),
            ("lazy", gettext_lazy("Dutch")),
            (
                'Group <1> & "2"',
                [("g1", "G1"), ("g2", gettext_lazy("English")), (3, 12345)],
            ),
            (None, "none"),
        ],
    )
    several = forms.MultipleChoiceField(
        label=gettext_lazy("English"),
        choices=[("1", "one"), ("2", "two"), (gettext_lazy("Dutch"), [("3", "three")])],
    )
    radio = forms.ChoiceField(
        choices=[("1", "<one>"), ("2", 2000), ("Group", [("3", "three")])],
        widget=forms.RadioSelect(attrs={"class": "tap <x>", "data-n": 3}),
    )
    boxes = forms.MultipleChoiceField(
        choices=[("1", "one"), ("2", "two"), ("3", "three")],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    ticked = forms.BooleanField(initial=True, label="Ticked & <b>")
    unticked = forms.BooleanField(required=False)
    odd = forms.CharField(
        required=False,
        widget=forms.TextInput(
            attrs={
                "data-true": True,
                "data-false": False,
                "data-none": None,
                "data-zero": 0,
                "data-empty": "",
                "data-safe": mark_safe("&amp;<x>"),
                "data-decimal": Decimal("1234.5"),
                "data-int": 12345,
                "data-float": 1234.5,
                "data-lazy": gettext_lazy("Dutch"),
                "data-date": date(2024, 1, 2),
                "data-tuple": (1, 2),
                "data-list": [1, "<2>"],
            }
        ),
    )
    text = forms.CharField(widget=forms.Textarea, initial="<script>alert('x')</script> & é")
    number_text = forms.IntegerField(widget=RawTextarea, initial=1234567)
    empty_text = forms.CharField(widget=forms.Textarea, required=False)
    amount = forms.DecimalField(localize=True, initial=Decimal("1234.50"))
    plain_amount = forms.DecimalField(initial=Decimal("1234.50"))
    count = forms.IntegerField(initial=12345)
    day = forms.DateField(initial=date(2024, 1, 2), widget=forms.DateInput)
    moment = forms.DateTimeField(initial=datetime(2024, 1, 2, 3, 4, tzinfo=UTC))
    hidden = forms.CharField(widget=forms.HiddenInput, initial="<h>")
    secret = forms.CharField(widget=forms.PasswordInput(render_value=True), initial="p&w")
    mail = forms.EmailField(initial="a@b.nl", help_text="Help <b>not</b> escaped")
    site = forms.URLField(required=False, assume_scheme="https")
    file = forms.FileField(required=False)
    split = forms.SplitDateTimeField(required=False)


TRICKY_DATA = MultiValueDict(
    {
        "choice": ["g2"],
        "several": ["1", "3", "<x>"],
        "radio": ["2"],
        "boxes": ["1", "3"],
        "ticked": ["on"],
        "odd": ['"quoted" <&>\''],
        "text": ["1000"],
        "amount": ["1.234,5"],
        "count": ["abc<"],
        "day": ["2024-13-01"],
        "hidden": ["&"],
        "mail": ["no mail"],
    }
)


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("bound", [False, True], ids=["unbound", "bound"])
@pytest.mark.parametrize("auto_id", ["id_%s", False], ids=["ids", "no-ids"])
def test_tricky_values_labels_and_attributes_render_alike(language, bound, auto_id):
    def build(renderer):
        return Tricky(TRICKY_DATA if bound else None, auto_id=auto_id, renderer=renderer)

    with translation.override(language):
        pieces = assert_same(build)
    if language == "nl" and not bound and auto_id:
        choice = pieces["choice"]
        assert '<option value="1">1.000</option>' in choice, "labels localised, values not"
        assert '<option value="1234.5">1.234,5</option>' in choice
        assert '<option value="lazy">Nederlands</option>' in choice
        assert "<i>x</i> &amp;" in choice and '<option value="&amp;">' in choice
        assert '<optgroup label="Group &lt;1&gt; &amp; &quot;2&quot;">' in choice
        assert 'value="&lt;a&gt;&amp;&quot;&#x27;">&lt;b&gt;&amp;&quot;&#x27;<' in choice
        assert "<em>Safe</em> label" in pieces["choice label_tag"]
        odd = pieces["odd"]
        assert " data-true " in odd and "data-false" not in odd
        assert 'data-none="None"' in odd and 'data-zero="0"' in odd and 'data-empty=""' in odd
        assert 'data-safe="&amp;<x>"' in odd and 'data-decimal="1234.5"' in odd
        assert 'data-int="12345"' in odd and 'data-lazy="Nederlands"' in odd
        assert 'data-tuple="(1, 2)"' in odd and 'data-list="[1, &#x27;&lt;2&gt;&#x27;]"' in odd
        assert "checked" in pieces["ticked"] and "checked" not in pieces["unticked"]
        assert (
            'value="1.234,50"' in pieces["amount"] and 'value="1234.50"' in pieces["plain_amount"]
        )
        assert ">\n1.234.567</textarea>" in pieces["number_text"]
    if bound:
        assert 'value="1" selected' in pieces["several"] and 'value="2">' in pieces["several"]
        assert 'aria-invalid="true"' in pieces["count"]


def test_a_form_in_the_project_language_renders_localised_labels_alike():
    """`{{ widget.label }}` localises numbers as the page's language does (1.000 in Dutch),
    under the project's settings (USE_THOUSAND_SEPARATOR, the nl formats)."""
    assert settings.USE_THOUSAND_SEPARATOR

    class Numbers(forms.Form):
        n = forms.TypedChoiceField(choices=[(i, i * 1000) for i in range(1, 4)], coerce=int)
        d = forms.ChoiceField(choices=[(Decimal("0.5"), Decimal("1500.25"))])
        f = forms.ChoiceField(choices=[(1.5, 1500.5)])

    with translation.override("nl"):
        pieces = assert_same(lambda renderer: Numbers(renderer=renderer))
    assert ">2.000<" in pieces["n"] and ">1.500,25<" in pieces["d"] and ">1.500,5<" in pieces["f"]


def test_callable_values_and_odd_contexts_fall_back_to_the_templates():
    """A template calls a callable it finds: the fast path leaves that to the templates."""
    fast = FastTemplates()

    class Weird(forms.Form):
        call = forms.ChoiceField(choices=[("a", lambda: "called <label>")])
        attrs_call = forms.CharField(widget=forms.TextInput(attrs={"data-c": lambda: "c<"}))

    pieces = assert_same(lambda renderer: Weird(renderer=renderer))
    assert "called &lt;label&gt;" in pieces["call"]
    # attrs.html loops over attrs.items: an attribute named "items" is what the loop gets
    items = forms.TextInput(attrs={"items": "x"})
    for renderer in (fast, SLOW):
        with pytest.raises(ValueError, match="Need 2 values to unpack"):
            items.render("name", "", renderer=renderer)
    context = {"widget": {"name": "x", "attrs": {}}}  # no type, no value
    assert fast.render("django/forms/widgets/text.html", context) == SLOW.render(
        "django/forms/widgets/text.html", context
    )


# --- the fast path is taken, and steps aside for templates it does not know ---------------


def test_the_fast_path_mirrors_every_standard_widget_template_of_this_django():
    """Every source the fast path copies is the one this Django ships (when Django changes a
    template, this fails: update SOURCES and the functions, or the fast path turns itself off
    for it and pages get slow again)."""
    shipped = Path(django.__file__).parent / "forms" / "templates"
    for name, source in SOURCES.items():
        assert (shipped / name).read_text() == source, name
    fast = FastTemplates()
    assert fast.unchanged == frozenset(SOURCES)
    widget_templates = {
        name
        for name in SOURCES
        if name.startswith("django/forms/widgets/")
        and name
        not in {
            "django/forms/widgets/attrs.html",
            "django/forms/widgets/input.html",
            "django/forms/widgets/input_option.html",
            "django/forms/widgets/multiple_input.html",
        }
    }
    assert widget_templates <= set(fast.fast)
    assert isinstance(get_default_renderer(), FastTemplates), "FORM_RENDERER is the fast one"


def test_the_wave_entry_and_set_up_forms_load_no_widget_template(study):
    """Counted template loads: the pages of issue 21 render their widgets without templates."""
    from study.forms import WaveEntryForm
    from study.setup_forms import StudySetUpForm

    renderer = FastTemplates()
    assert renderer.fast  # checks the sources once, before counting
    loads: list[str] = []
    real = renderer.engine.get_template

    def counting(name):
        loads.append(name)
        return real(name)

    with mock.patch.object(renderer.engine, "get_template", side_effect=counting):
        entry = WaveEntryForm(indicators=indicators_for(study), renderer=renderer)
        html = "".join(str(field) for field in entry) + "".join(
            str(field) for field in StudySetUpForm(renderer=renderer)
        )
        html += "".join(
            radio.tag() for radio in StudySetUpForm(renderer=renderer)["allocation_method"]
        )
        html += StudySetUpForm(renderer=renderer)["name"].label_tag()
    assert html.count("<option") > 300 and "<textarea" in html and 'type="radio"' in html
    assert loads == []


class OverriddenSelectOption(FastTemplates):
    """A project that overrides select_option.html (and knows an extra template)."""

    @cached_property
    def engine(self):
        shipped = Path(django.__file__).parent / "forms" / "templates"
        return DjangoTemplatesBackend(
            {
                "APP_DIRS": False,
                "DIRS": [],
                "NAME": "overridden",
                "OPTIONS": {
                    "loaders": [
                        (
                            "django.template.loaders.locmem.Loader",
                            {
                                "django/forms/widgets/select_option.html": (
                                    '<option data-own value="{{ widget.value }}">'
                                    "{{ widget.label|upper }}</option>"
                                ),
                                "own/widget.html": '<own name="{{ widget.name }}">',
                            },
                        ),
                        ("django.template.loaders.filesystem.Loader", [str(shipped)]),
                    ]
                },
            }
        )


def test_an_overridden_or_unknown_template_is_rendered_by_the_templates():
    renderer = OverriddenSelectOption()
    assert "django/forms/widgets/select_option.html" not in renderer.fast
    assert "django/forms/widgets/select.html" in renderer.fast

    class Own(forms.TextInput):
        template_name = "own/widget.html"

    class Form(forms.Form):
        pick = forms.ChoiceField(choices=[("a", "<a>")])
        own = forms.CharField(widget=Own)
        text = forms.CharField()

    form = Form(renderer=renderer)
    assert '<option data-own value="a">&lt;A&gt;</option>' in str(form["pick"])
    assert str(form["own"]) == '<own name="own">'
    assert str(form["text"]) == '<input type="text" name="text" required id="id_text">'
