"""The roles a user can hold in a study (a StudyMembership); what each role may do is the rights
table of `study.access`, the one place that answers access questions."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    RESEARCHER = "researcher", _("Researcher")
    WIJKCOACH = "wijkcoach", _("Wijkcoach")
    GEMEENTE = "gemeente", _("Municipality")
    DATA_MANAGER = "datamanager", _("Data manager")
    COORDINATOR = "coordinator", _("Coordinator")
