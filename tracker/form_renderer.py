"""A form renderer that writes Django's standard widget templates in Python (issue 21).

Django's template renderer renders every widget, and every <option> of a select, through a
template and its includes: a page with a few hundred options or many fields spends most of its
time there. `FastTemplates` renders the same templates by a Python fast path that gives the same
bytes (tests/tracker/test_form_renderer.py compares the two on every form of the project), and
renders everything else through the templates as before:

- a template is rendered fast only when the template the engine finds under its name (and every
  template it includes) has exactly the source below: a project or an app that overrides one, or
  a Django upgrade that changes one, turns the fast path off for it;
- a context the fast path does not mirror exactly (not a plain dict, a callable value, which a
  template would call, an attribute named "items", an option template it does not know, a
  missing key) is rendered through the templates, as is any failure on the fast path.

The fast path mirrors the template language: `{{ x }}` is `render_value_in_context` (localised
numbers and dates, lazy translations, escaping unless safe), `{{ x|stringformat:'s' }}` is
"%s" % x without localisation, escaped unless x was safe, and attributes follow attrs.html
(False leaves an attribute out, True writes its bare name).
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from django.forms.renderers import DjangoTemplates
from django.template.base import render_value_in_context
from django.template.defaultfilters import stringformat
from django.utils.functional import cached_property
from django.utils.safestring import SafeData

W = "django/forms/widgets/"
INPUT_INCLUDE = '{% include "django/forms/widgets/input.html" %}\n'

# The sources the fast path mirrors, as Django 5.2 ships them.
SOURCES: dict[str, str] = {
    W + "attrs.html": (
        "{% for name, value in widget.attrs.items %}{% if value is not False %} {{ name }}"
        "{% if value is not True %}=\"{{ value|stringformat:'s' }}\"{% endif %}{% endif %}"
        "{% endfor %}"
    ),
    W + "input.html": (
        '<input type="{{ widget.type }}" name="{{ widget.name }}"{% if widget.value != None %}'
        " value=\"{{ widget.value|stringformat:'s' }}\"{% endif %}"
        '{% include "django/forms/widgets/attrs.html" %}>\n'
    ),
    W + "select.html": (
        '<select name="{{ widget.name }}"{% include "django/forms/widgets/attrs.html" %}>'
        "{% for group_name, group_choices, group_index in widget.optgroups %}"
        '{% if group_name %}\n  <optgroup label="{{ group_name }}">{% endif %}'
        "{% for option in group_choices %}\n  {% include option.template_name with widget=option %}"
        "{% endfor %}{% if group_name %}\n  </optgroup>{% endif %}{% endfor %}\n</select>\n"
    ),
    W + "select_option.html": (
        "<option value=\"{{ widget.value|stringformat:'s' }}\""
        '{% include "django/forms/widgets/attrs.html" %}>{{ widget.label }}</option>\n'
    ),
    W + "textarea.html": (
        '<textarea name="{{ widget.name }}"{% include "django/forms/widgets/attrs.html" %}>\n'
        "{% if widget.value %}{{ widget.value }}{% endif %}</textarea>\n"
    ),
    W + "input_option.html": (
        '{% if widget.wrap_label %}<label{% if widget.attrs.id %} for="{{ widget.attrs.id }}"'
        '{% endif %}>{% endif %}{% include "django/forms/widgets/input.html" %}'
        "{% if widget.wrap_label %} {{ widget.label }}</label>{% endif %}\n"
    ),
    W + "multiple_input.html": (
        '{% with id=widget.attrs.id %}<div{% if id %} id="{{ id }}"{% endif %}'
        '{% if widget.attrs.class %} class="{{ widget.attrs.class }}"{% endif %}>'
        "{% for group, options, index in widget.optgroups %}{% if group %}\n"
        "  <div><label>{{ group }}</label>{% endif %}{% for option in options %}<div>\n"
        "    {% include option.template_name with widget=option %}</div>{% endfor %}"
        "{% if group %}\n  </div>{% endif %}{% endfor %}\n</div>{% endwith %}\n"
    ),
    W + "radio_option.html": '{% include "django/forms/widgets/input_option.html" %}\n',
    W + "checkbox_option.html": '{% include "django/forms/widgets/input_option.html" %}\n',
    W + "radio.html": '{% include "django/forms/widgets/multiple_input.html" %}\n',
    W + "checkbox_select.html": '{% include "django/forms/widgets/multiple_input.html" %}\n',
    "django/forms/attrs.html": (
        "{% for name, value in attrs.items %}{% if value is not False %} {{ name }}"
        "{% if value is not True %}=\"{{ value|stringformat:'s' }}\"{% endif %}{% endif %}"
        "{% endfor %}"
    ),
    "django/forms/label.html": (
        "{% if use_tag %}<{{ tag }}{% include 'django/forms/attrs.html' %}>{{ label }}</{{ tag }}>"
        "{% else %}{{ label }}{% endif %}\n"
    ),
}
# Inputs whose template only includes input.html.
INPUT_TYPES = (
    "checkbox",
    "color",
    "date",
    "datetime",
    "email",
    "file",
    "hidden",
    "number",
    "password",
    "search",
    "tel",
    "text",
    "time",
    "url",
)
for _kind in INPUT_TYPES:
    SOURCES[f"{W}{_kind}.html"] = INPUT_INCLUDE


class Unsupported(Exception):
    """The context holds something the fast path does not mirror: render the template."""


class _Context:
    """What `{{ }}` reads of a template context: the form engine's defaults."""

    autoescape = True
    use_l10n = None
    use_tz = None


_CONTEXT: Any = _Context()


def out(value: Any) -> str:
    """`{{ value }}`: localised, escaped unless safe."""
    if type(value) is str:
        return html.escape(value)
    if callable(value):  # a template would call it
        raise Unsupported
    return render_value_in_context(value, _CONTEXT)


def fmt(value: Any) -> str:
    """`{{ value|stringformat:'s' }}`: not localised, escaped unless the value was safe."""
    if type(value) is str:
        return html.escape(value)
    if callable(value):
        raise Unsupported
    text = stringformat(value, "s")
    return text if isinstance(value, SafeData) else html.escape(text)


def attrs_html(attrs: Any) -> str:
    """attrs.html: ` name="value"`, a bare ` name` for True, nothing for False."""
    if type(attrs) is not dict or "items" in attrs:
        raise Unsupported
    parts = []
    for name, value in attrs.items():
        if value is False:
            continue
        if value is True:
            parts.append(" " + out(name))
        else:
            parts.append(f' {out(name)}="{fmt(value)}"')
    return "".join(parts)


def _widget(context: Any) -> dict:
    if type(context) is not dict:
        raise Unsupported
    widget = context["widget"]
    if type(widget) is not dict:
        raise Unsupported
    return widget


def _get(widget: dict, key: str) -> Any:
    """`widget.key` in an {% if %} or {% with %}: a missing key is None (falsy)."""
    value = widget.get(key)
    if callable(value):
        raise Unsupported
    return value


class FastTemplates(DjangoTemplates):
    """DjangoTemplates, with Django's standard widget templates rendered by a Python fast path
    that writes the same HTML (see the module's docstring)."""

    @cached_property
    def unchanged(self) -> frozenset[str]:
        """The names in SOURCES whose template, as this renderer's engine finds it, has the
        source the fast path mirrors."""
        names = set()
        engine = getattr(self.engine, "engine", None)  # the django.template.Engine
        if engine is None or not engine.autoescape or engine.string_if_invalid:
            return frozenset()
        for name, source in SOURCES.items():
            try:
                template = self.engine.get_template(name)
            except Exception:  # a template not found is simply not fast
                continue
            if getattr(getattr(template, "template", None), "source", None) == source:
                names.add(name)
        return frozenset(names)

    @cached_property
    def fast(self) -> dict[str, Callable[[Any], str]]:
        """Template name -> the function that writes its output (before the final strip), for
        the templates that are unchanged together with every template they include."""
        attrs = W + "attrs.html"
        needs: dict[str, tuple[Callable[[Any], str], tuple[str, ...]]] = {
            W + "select.html": (self._select, (attrs,)),
            W + "select_option.html": (self._select_option, (attrs,)),
            W + "textarea.html": (self._textarea, (attrs,)),
            W + "radio.html": (self._multiple_input, (W + "multiple_input.html",)),
            W + "checkbox_select.html": (self._multiple_input, (W + "multiple_input.html",)),
            W + "radio_option.html": (
                self._input_option,
                (W + "input_option.html", W + "input.html", attrs),
            ),
            W + "checkbox_option.html": (
                self._input_option,
                (W + "input_option.html", W + "input.html", attrs),
            ),
            "django/forms/label.html": (self._label, ("django/forms/attrs.html",)),
        }
        for kind in INPUT_TYPES:
            needs[f"{W}{kind}.html"] = (self._input_include, (W + "input.html", attrs))
        unchanged = self.unchanged
        return {
            name: function
            for name, (function, includes) in needs.items()
            if name in unchanged and all(include in unchanged for include in includes)
        }

    def render(self, template_name, context, request=None):
        function = self.fast.get(template_name)
        if function is not None:
            try:
                return function(context).strip()
            except Exception:  # the template renders it, and raises if it must
                pass
        return super().render(template_name, context, request)

    # --- the templates ---------------------------------------------------------------------

    def _option(self, option: Any) -> str:
        """`{% include option.template_name with widget=option %}`."""
        if type(option) is not dict:
            raise Unsupported
        function = self.fast.get(option["template_name"])
        if function is None:
            raise Unsupported
        return function({"widget": option})

    @staticmethod
    def _input(widget: dict) -> str:
        value = widget["value"]
        if callable(value):
            raise Unsupported
        value_html = f' value="{fmt(value)}"' if value != None else ""  # noqa: E711 - as the template
        return (
            f'<input type="{out(widget["type"])}" name="{out(widget["name"])}"'
            f"{value_html}{attrs_html(widget['attrs'])}>\n"
        )

    def _input_include(self, context: Any) -> str:
        return self._input(_widget(context)) + "\n"

    def _input_option(self, context: Any) -> str:
        widget = _widget(context)
        html_ = self._input(widget)
        if _get(widget, "wrap_label"):
            attrs = widget["attrs"]
            if type(attrs) is not dict:
                raise Unsupported
            id_ = attrs.get("id")
            if callable(id_):
                raise Unsupported
            label_for = f' for="{out(id_)}"' if id_ else ""
            html_ = f"<label{label_for}>{html_} {out(widget['label'])}</label>"
        return html_ + "\n\n"

    def _multiple_input(self, context: Any) -> str:
        widget = _widget(context)
        attrs = widget["attrs"]
        if type(attrs) is not dict:
            raise Unsupported
        id_, class_ = _get(attrs, "id"), _get(attrs, "class")
        parts = ["<div"]
        if id_:
            parts.append(f' id="{out(id_)}"')
        if class_:
            parts.append(f' class="{out(class_)}"')
        parts.append(">")
        for group, options, _index in widget["optgroups"]:
            if callable(group):
                raise Unsupported
            if group:
                parts.append(f"\n  <div><label>{out(group)}</label>")
            for option in options:
                parts.append(f"<div>\n    {self._option(option)}</div>")
            if group:
                parts.append("\n  </div>")
        parts.append("\n</div>\n\n")
        return "".join(parts)

    def _select(self, context: Any) -> str:
        widget = _widget(context)
        parts = [f'<select name="{out(widget["name"])}"{attrs_html(widget["attrs"])}>']
        for group_name, group_choices, _index in widget["optgroups"]:
            if callable(group_name):
                raise Unsupported
            if group_name:
                parts.append(f'\n  <optgroup label="{out(group_name)}">')
            for option in group_choices:
                parts.append("\n  " + self._option(option))
            if group_name:
                parts.append("\n  </optgroup>")
        parts.append("\n</select>\n")
        return "".join(parts)

    @staticmethod
    def _select_option(context: Any) -> str:
        widget = _widget(context)
        return (
            f'<option value="{fmt(widget["value"])}"{attrs_html(widget["attrs"])}>'
            f"{out(widget['label'])}</option>\n"
        )

    @staticmethod
    def _textarea(context: Any) -> str:
        widget = _widget(context)
        if "value" not in widget:
            raise Unsupported
        value = _get(widget, "value")
        text = out(value) if value else ""
        return (
            f'<textarea name="{out(widget["name"])}"{attrs_html(widget["attrs"])}>\n'
            f"{text}</textarea>\n"
        )

    @staticmethod
    def _label(context: Any) -> str:
        if type(context) is not dict:
            raise Unsupported
        use_tag = context["use_tag"]
        if callable(use_tag):
            raise Unsupported
        if not use_tag:
            return out(context["label"]) + "\n"
        tag = out(context["tag"])
        return f"<{tag}{attrs_html(context['attrs'])}>{out(context['label'])}</{tag}>\n"
