"""Versioned price catalogues, the CPI series and sensitivity scenarios of the cost model."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from analysis.costs import pricing


class Unit(models.TextChoices):
    PER_BENEFIT_YEAR = pricing.UNIT_BENEFIT_YEAR, _("per benefit per year")
    PER_OFFENCE = pricing.UNIT_OFFENCE, _("per offence")
    PER_TRAJECTORY = pricing.UNIT_TRAJECTORY, _("per trajectory")
    PER_TRAJECTORY_YEAR = pricing.UNIT_TRAJECTORY_YEAR, _("per trajectory per year")
    PER_DAY = pricing.UNIT_DAY, _("per day")
    PER_PERSON_YEAR = pricing.UNIT_PERSON_YEAR, _("per person per year")
    PER_FAMILY_DAY = pricing.UNIT_FAMILY_DAY, _("per family per day")
    PER_HOUSEHOLD_YEAR = pricing.UNIT_HOUSEHOLD_YEAR, _("per household per year")
    EUROS_CLAIMED = pricing.UNIT_EUROS_CLAIMED, _("euros claimed")


class CatalogueFrozenError(ValidationError):
    """An item of a published catalogue version was about to change."""


class PriceCatalogue(models.Model):
    """One immutable version of the price catalogue; a revision is a new version."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    name = models.CharField(_("name"), max_length=200)
    base_year = models.PositiveSmallIntegerField(_("base year"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent version"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    published = models.BooleanField(
        _("published"),
        default=False,
        help_text=_("A published version is frozen: change it by making a new version."),
    )

    class Meta:
        ordering = ["-version"]
        verbose_name = _("price catalogue")
        verbose_name_plural = _("price catalogues")

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"

    def save(self, *args, **kwargs) -> None:
        if self.pk and PriceCatalogue.objects.filter(pk=self.pk, published=True).exists():
            raise CatalogueFrozenError(
                _("Catalogue version %(version)s is published and cannot change.")
                % {"version": self.version}
            )
        super().save(*args, **kwargs)


class PriceItem(models.Model):
    """One cost item of a catalogue version: unit, price at its reference year, base-year price."""

    catalogue = models.ForeignKey(
        PriceCatalogue,
        verbose_name=_("catalogue"),
        on_delete=models.CASCADE,
        related_name="items",
    )
    code = models.SlugField(_("code"), max_length=60)
    domain = models.CharField(_("domain"), max_length=40)
    description = models.CharField(_("description"), max_length=300)
    unit = models.CharField(_("unit"), max_length=30, choices=Unit.choices)
    reference_year = models.PositiveSmallIntegerField(_("reference year"))
    price_at_reference_year = models.DecimalField(
        _("price at reference year"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    index_factor_to_base = models.DecimalField(
        _("index factor to base year"),
        max_digits=8,
        decimal_places=4,
        null=True,
        blank=True,
        help_text=_("Explicit factor (the report's); empty means CPI chaining."),
    )
    price_base_year = models.DecimalField(
        _("price in base year"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    source_note = models.TextField(_("source"), blank=True)

    class Meta:
        ordering = ["catalogue", "id"]
        constraints = [
            models.UniqueConstraint(fields=["catalogue", "code"], name="costs_item_code_unique"),
        ]
        verbose_name = _("price item")
        verbose_name_plural = _("price items")

    def __str__(self) -> str:
        return f"{self.code} (v{self.catalogue.version})"

    def save(self, *args, **kwargs) -> None:
        if (
            self.catalogue_id
            and PriceCatalogue.objects.filter(pk=self.catalogue_id, published=True).exists()
        ):
            raise CatalogueFrozenError(
                _("Catalogue version %(version)s is published; revise it to change a price.")
                % {"version": self.catalogue.version}
            )
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if PriceCatalogue.objects.filter(pk=self.catalogue_id, published=True).exists():
            raise CatalogueFrozenError(
                _("Catalogue version %(version)s is published; revise it to remove an item.")
                % {"version": self.catalogue.version}
            )
        return super().delete(*args, **kwargs)


class CpiYear(models.Model):
    """The consumer price index's annual change of one year (CBS), in percent."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    annual_change_pct = models.DecimalField(_("annual change (%)"), max_digits=6, decimal_places=2)
    source = models.CharField(_("source"), max_length=200, blank=True, default="CBS")
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["year"]
        verbose_name = _("CPI year")
        verbose_name_plural = _("CPI years")

    def __str__(self) -> str:
        return f"{self.year}: {self.annual_change_pct} %"


class SensitivityScenario(models.Model):
    """A named variant of the catalogue for the sensitivity analysis (see scenarios.Scenario)."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    price_overrides = models.JSONField(
        _("price overrides"),
        default=dict,
        blank=True,
        help_text=_("Item code to price at the item's reference year."),
    )
    price_factors = models.JSONField(
        _("price factors"),
        default=dict,
        blank=True,
        help_text=_("Item code to factor on the base-year price."),
    )
    volume_divisors = models.JSONField(
        _("volume divisors"),
        default=dict,
        blank=True,
        help_text=_("Item code to divisor of the volume."),
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "code"]
        verbose_name = _("sensitivity scenario")
        verbose_name_plural = _("sensitivity scenarios")

    def __str__(self) -> str:
        return self.name
