"""The set-up through the REST API, for a municipal system with a per-study API key or a person
with a verified token: studies with their arms, memberships and invitations, enrolment
(`POST /api/families/`, with the eligibility check and, in a randomised study, the allocation),
a family's status, caseloads (assign, hand over, end) and professionals. Thin: the services
decide, `study.access` answers who may."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from study import access, selectors
from study.api import views
from study.api.logging import FamilyReadLogged
from study.models import (
    Arm,
    CaseloadAssignment,
    Family,
    Member,
    Professional,
    Study,
    StudyMembership,
)
from study.roles import Role
from study.services import care, members, professionals
from study.services import families as family_services
from study.services.allocation import family_enrol_randomised

MAX_ID = 2**31 - 1
ELIGIBILITY = (
    "elig_socio_economic",
    "elig_adult_psychosocial",
    "elig_child_psychosocial",
    "elig_chronic",
)


def _drf(exc: DjangoValidationError) -> ValidationError:
    return ValidationError(
        exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
    )


def _study(user, pk, right: access.Right) -> Study:
    """A study the user may open and holds `right` in (a study outside their reach: a field
    error, as for any unknown id)."""
    try:
        study = selectors.study_get(user, int(pk))
    except (Http404, TypeError, ValueError):
        raise ValidationError({"study": [_("not found")]}) from None
    if not access.has_right(user, study, right):
        raise PermissionDenied(_("You may not do this in this study."))
    return study


# --- studies with arms ---------------------------------------------------------------------


class ArmSerializer(serializers.ModelSerializer):
    class Meta:
        model = Arm
        fields = ["kind", "name"]


class StudySetUpSerializer(views.s.StudySerializer):
    arms = ArmSerializer(many=True, read_only=True)

    class Meta(views.s.StudySerializer.Meta):
        fields = [
            *views.s.StudySerializer.Meta.fields,
            "municipality_code",
            "wave_interval_months",
            "wave_window_days",
            "allocation_method",
            "allocation_strata",
            "randomisation",
            "match_variables",
            "enrolment_target",
            "intervention_cap",
            "comparison_cap",
            "eligibility_rule",
            "contact_notes_for_research",
            "arms",
        ]


class StudyViewSet(views.StudyViewSet):
    """The studies the caller may open, with their design and arms."""

    serializer_class = StudySetUpSerializer

    def get_queryset(self):
        return super().get_queryset().prefetch_related("arms")


# --- enrolment and status ------------------------------------------------------------------


class MemberSpecSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Member.Role.choices)
    birth_year = serializers.IntegerField(min_value=1900, max_value=2100)
    relation = serializers.CharField(max_length=40, required=False, default="")


class EnrolSerializer(serializers.Serializer):
    study = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    arm = serializers.ChoiceField(
        choices=Arm.Kind.choices,
        required=False,
        help_text="Matched studies only; a randomised study allocates the arm.",
    )
    allocation = serializers.ChoiceField(
        choices=[Family.Allocation.MATCHED, Family.Allocation.ASSIGNED], required=False
    )
    intake_date = serializers.DateField()
    wijk = serializers.CharField(max_length=100, required=False, default="")
    elig_socio_economic = serializers.BooleanField()
    elig_adult_psychosocial = serializers.BooleanField()
    elig_child_psychosocial = serializers.BooleanField()
    elig_chronic = serializers.BooleanField()
    members = MemberSpecSerializer(many=True)
    identifier = serializers.CharField(
        required=False,
        write_only=True,
        help_text="A BSN: turned into the linkage key, never stored.",
    )
    eligibility_override_reason = serializers.CharField(max_length=500, required=False, default="")
    match_set = serializers.CharField(
        max_length=50, required=False, default="", help_text="Matched studies: the pair or set."
    )


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Family.Status.choices)
    on = serializers.DateField()
    reason = serializers.CharField(max_length=300, required=False, default="")


class FamilyViewSet(views.FamilyViewSet, mixins.CreateModelMixin):
    """Families the caller may see; researchers (and keys with research:write) enrol."""

    @extend_schema(request=EnrolSerializer, responses={201: views.s.FamilySerializer})
    def create(self, request, *args, **kwargs):
        """Enrol a family: checked for eligibility, the target or caps, its members; in a
        randomised study the arm is drawn now and returned (and logged)."""
        ser = EnrolSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        study = _study(request.user, data.pop("study"), access.Right.RESEARCH_WRITE)
        eligibility = {key: data.pop(key) for key in ELIGIBILITY}
        specs = [family_services.MemberSpec(**m) for m in data.pop("members")]
        common = {
            "study": study,
            "intake_date": data["intake_date"],
            "eligibility": eligibility,
            "members": specs,
            "wijk": data["wijk"],
            "identifier": data.get("identifier") or None,
            "eligibility_override_reason": data["eligibility_override_reason"],
            "user": request.user,
        }
        try:
            if study.allocation_method == Study.AllocationMethod.RANDOMISED:
                if "arm" in data or data["match_set"]:
                    raise ValidationError(
                        {"arm": [_("This study is randomised: leave the arm and match out.")]}
                    )
                family = family_enrol_randomised(**common)
            else:
                if "arm" not in data:
                    raise ValidationError({"arm": [_("Choose the arm.")]})
                family = family_services.family_enrol(
                    arm_kind=data["arm"],
                    match_set=data["match_set"],
                    allocation=data.get("allocation", Family.Allocation.MATCHED),
                    **common,
                )
        except DjangoValidationError as exc:
            raise _drf(exc) from None
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from None
        return Response(views.s.FamilySerializer(family).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=StatusSerializer, responses={200: views.s.FamilySerializer})
    @action(detail=True, methods=["post"], url_path="status")
    def set_status(self, request, pk=None):
        """Record a change of the family's course (drop-out, moved away, ...) with date and
        reason."""
        family = self.get_object()
        if not access.family_has_right(request.user, family, access.Right.RESEARCH_WRITE):
            raise PermissionDenied(
                _("Only researchers and data managers change a family's status.")
            )
        ser = StatusSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        try:
            family = family_services.family_set_status(
                family=family,
                status=ser.validated_data["status"],
                on=ser.validated_data["on"],
                reason=ser.validated_data["reason"].strip(),
                user=request.user,
            )
        except DjangoValidationError as exc:
            raise _drf(exc) from None
        return Response(views.s.FamilySerializer(family).data)


# --- memberships and invitations ------------------------------------------------------------


class MembershipSerializer(serializers.ModelSerializer):
    username = serializers.CharField(source="user.username", read_only=True)

    class Meta:
        model = StudyMembership
        fields = ["id", "study", "user", "username", "role", "active"]


class InviteSerializer(serializers.Serializer):
    study = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)


class RoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Role.choices)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class MembershipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Memberships of the studies whose members the caller manages (data managers, keys with
    members:write); invite by e-mail, change a role, end a membership."""

    serializer_class = MembershipSerializer
    filterset_fields = ["study", "role", "active"]

    def get_queryset(self):
        studies = access.studies_with(self.request.user, access.Right.MEMBERS_MANAGE)
        return (
            StudyMembership.objects.filter(study__in=studies).select_related("user").order_by("pk")
        )

    @extend_schema(request=InviteSerializer, responses={201: MembershipSerializer})
    def create(self, request):
        """Invite a person by e-mail with a role (they get a set-password link and a one-time
        authenticator link by e-mail)."""
        ser = InviteSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        study = _study(request.user, ser.validated_data["study"], access.Right.MEMBERS_MANAGE)
        try:
            invitation = members.member_invite(
                study=study,
                email=ser.validated_data["email"],
                role=ser.validated_data["role"],
                invited_by=request.user,
            )
        except DjangoValidationError as exc:
            raise _drf(exc) from None
        return Response(
            MembershipSerializer(invitation.membership).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=RoleSerializer, responses={200: MembershipSerializer})
    @action(detail=True, methods=["post"])
    def role(self, request, pk=None):
        ser = RoleSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        try:
            new = members.member_change_role(
                membership=self.get_object(),
                role=ser.validated_data["role"],
                changed_by=request.user,
            )
        except DjangoValidationError as exc:
            raise _drf(exc) from None
        return Response(MembershipSerializer(new).data)

    @extend_schema(request=ReasonSerializer, responses={200: MembershipSerializer})
    @action(detail=True, methods=["post"])
    def end(self, request, pk=None):
        ser = ReasonSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        try:
            ended = members.member_end(
                membership=self.get_object(),
                ended_by=request.user,
                reason=ser.validated_data["reason"],
            )
        except DjangoValidationError as exc:
            raise _drf(exc) from None
        return Response(MembershipSerializer(ended).data)


# --- caseloads ----------------------------------------------------------------------------------


class CaseloadSerializer(serializers.ModelSerializer):
    coach_username = serializers.CharField(source="coach.username", read_only=True)

    class Meta:
        model = CaseloadAssignment
        fields = ["id", "family", "coach", "coach_username", "start_date", "end_date"]


class CaseloadChangeSerializer(serializers.Serializer):
    families = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), min_length=1, max_length=500
    )
    coach = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        help_text="User id of the coach (assign, hand over).",
    )
    on = serializers.DateField()


class CaseloadViewSet(
    FamilyReadLogged, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Caseload assignments (history included) of the families whose caseloads the caller
    manages (coordinators, data managers, keys with caseloads:write)."""

    serializer_class = CaseloadSerializer
    filterset_fields = ["family", "coach"]

    def get_queryset(self):
        families = access.caseload_managed_families(self.request.user)
        return (
            CaseloadAssignment.objects.filter(family__in=families)
            .select_related("coach")
            .order_by("pk")
        )

    def _change(self, request, operation):
        ser = CaseloadChangeSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        ids = set(ser.validated_data["families"])
        families = list(access.caseload_managed_families(request.user).filter(pk__in=ids))
        if len(families) != len(ids):
            raise ValidationError({"families": [_("not found")]})
        coach = None
        if operation != "end":
            coach = get_user_model().objects.filter(pk=ser.validated_data.get("coach") or 0).first()
            if coach is None:
                raise ValidationError({"coach": [_("not found")]})
        on = ser.validated_data["on"]
        try:
            if operation == "assign":
                n = care.caseloads_assign(
                    families=families, coach=coach, start_date=on, user=request.user
                )
            elif operation == "hand_over":
                n = care.caseloads_hand_over(
                    families=families, coach=coach, on=on, user=request.user
                )
            else:
                n = care.caseloads_end(families=families, on=on, user=request.user)
        except DjangoValidationError as exc:
            raise _drf(exc) from None
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from None
        return Response({"changed": n})

    @extend_schema(request=CaseloadChangeSerializer, responses={200: dict})
    def create(self, request):
        """Assign families without a coach to `coach` from `on`."""
        return self._change(request, "assign")

    @extend_schema(request=CaseloadChangeSerializer, responses={200: dict})
    @action(detail=False, methods=["post"], url_path="hand-over")
    def hand_over(self, request):
        """Hand families over to `coach` on `on` (the earlier coach's access ends the day before)."""
        return self._change(request, "hand_over")

    @extend_schema(request=CaseloadChangeSerializer, responses={200: dict})
    @action(detail=False, methods=["post"])
    def end(self, request):
        """End the families' caseloads on `on`."""
        return self._change(request, "end")


# --- professionals ------------------------------------------------------------------------------


class ProfessionalWriteSerializer(serializers.Serializer):
    study = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    organisation = serializers.CharField(max_length=150)
    approach = serializers.ChoiceField(choices=Professional.Approach.choices)


class DeactivateSerializer(serializers.Serializer):
    on = serializers.DateField()
    reason = serializers.CharField(max_length=300)


class ProfessionalViewSet(views.ProfessionalViewSet, mixins.CreateModelMixin):
    @extend_schema(
        request=ProfessionalWriteSerializer, responses={201: views.s.ProfessionalSerializer}
    )
    def create(self, request, *args, **kwargs):
        """Register a professional of a study."""
        ser = ProfessionalWriteSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        data = dict(ser.validated_data)
        study = _study(request.user, data.pop("study"), access.Right.RESEARCH_WRITE)
        try:
            professional = professionals.professional_register(
                study=study, user=request.user, **data
            )
        except DjangoValidationError as exc:
            raise _drf(exc) from None
        return Response(
            views.s.ProfessionalSerializer(professional).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=DeactivateSerializer, responses={200: views.s.ProfessionalSerializer})
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        """The professional stops in the study (their surveys stay)."""
        professional = self.get_object()
        ser = DeactivateSerializer(data=request.data)
        ser.is_valid(raise_exception=True)
        try:
            professional = professionals.professional_deactivate(
                professional=professional, user=request.user, **ser.validated_data
            )
        except DjangoValidationError as exc:
            raise _drf(exc) from None
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from None
        return Response(views.s.ProfessionalSerializer(professional).data)
