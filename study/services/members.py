"""People of a study: inviting a user by e-mail with a role (they set their own password and
enrol their authenticator with one-time links), changing a member's role, ending a membership.
Who may do it is `study.access` (members_manage: the study's data managers)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from study import access
from study.models import StudyMembership
from study.roles import Role
from study.services import accounts
from study.services.languages import in_language_of
from study.services.studies import membership_end, membership_grant


@dataclass(frozen=True)
class Invitation:
    user: object
    membership: StudyMembership
    created: bool  # a new account (it got a set-password link)
    password_url: str
    enrolment_url: str


def _require(user, study) -> None:
    if not access.has_right(user, study, access.Right.MEMBERS_MANAGE):
        raise PermissionDenied(_("Only a data manager of the study manages its members."))


def _check_role(role: str) -> None:
    if role not in Role.values:
        raise ValidationError({"role": _("Choose one of the roles.")})


def password_set_url(user) -> str:
    """A link with which the user sets their own password (Django's reset token: it works once
    and for PASSWORD_RESET_TIMEOUT)."""
    path = reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )
    return settings.SITE_URL + path


@transaction.atomic
def member_invite(*, study, email: str, role: str, invited_by) -> Invitation:
    """Invite a person by e-mail with a role in the study. A new account has no password until
    its owner sets one with the link in the e-mail; the e-mail also holds a one-time link to
    enrol their authenticator after that first login. An existing account gets the role."""
    _require(invited_by, study)
    _check_role(role)
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError({"email": _("Give a valid e-mail address.")}) from None
    User = get_user_model()
    user = User.objects.filter(email__iexact=email).order_by("pk").first()
    created = user is None
    if user is None:
        if User.objects.filter(username__iexact=email).exists():
            raise ValidationError({"email": _("An account with this name exists already.")})
        user = User.objects.create_user(username=email, email=email)
        user.set_unusable_password()
        user.save(update_fields=["password"])
    elif not user.is_active:
        raise ValidationError({"email": _("This account is deactivated.")})
    membership = membership_grant(study=study, user=user, role=role, granted_by=invited_by)
    password_url = password_set_url(user) if created or not user.has_usable_password() else ""
    enrolment_url = ""
    if not accounts.has_authenticator(user):
        _link, raw = accounts.enrolment_link_issue(user=user, issued_by=None)
        enrolment_url = accounts.enrolment_link_url(raw)
    # In the invitee's own language (their stored choice; a new account: the site's default).
    with in_language_of(user):
        lines = [
            _("You have been given the role %(role)s in the study %(study)s.")
            % {"role": Role(role).label, "study": study.name},
            _("Your user name is %(username)s.") % {"username": user.get_username()},
        ]
        if password_url:
            lines.append(
                _("1. Set your password (the link works once): %(url)s") % {"url": password_url}
            )
        if enrolment_url:
            lines.append(
                _("2. After logging in, link your authenticator app (the link works once): %(url)s")
                % {"url": enrolment_url}
            )
        subject = _("Invitation to the study %(study)s") % {"study": study.name}
    body = "\n\n".join(lines)
    transaction.on_commit(lambda: send_mail(subject, body, None, [email]))
    return Invitation(user, membership, created, password_url, enrolment_url)


@transaction.atomic
def member_change_role(*, membership: StudyMembership, role: str, changed_by, reason: str = ""):
    """A member's role changes: the old membership ends, the new one is granted (both audited)."""
    _require(changed_by, membership.study)
    _check_role(role)
    if role == membership.role and membership.active:
        return membership
    new = membership_grant(
        study=membership.study, user=membership.user, role=role, granted_by=changed_by
    )
    membership_end(membership=membership, ended_by=changed_by, reason=reason or f"role now {role}")
    return new


@transaction.atomic
def member_end(*, membership: StudyMembership, ended_by, reason: str) -> StudyMembership:
    """End a membership (the person keeps other roles and studies; the row stays, inactive)."""
    _require(ended_by, membership.study)
    if not reason.strip():
        raise ValidationError({"reason": _("Give a reason for ending this membership.")})
    membership_end(membership=membership, ended_by=ended_by, reason=reason.strip())
    return membership


def restored_users_reinvite(*, study, users) -> int:
    """Re-invite the users a restored backup brought without their password (the bundle holds
    no password hashes unless asked for): each gets a link to set a password and, without an
    authenticator, a one-time link to link one. Users without an e-mail address or with a
    usable password are left alone; returns how many were invited."""
    sent = 0
    for user in users:
        if not user.email or not user.is_active or user.has_usable_password():
            continue
        lines = [
            _("The study %(study)s was moved to this installation.") % {"study": study.name},
            _("Your user name is %(username)s.") % {"username": user.get_username()},
            _("1. Set your password (the link works once): %(url)s")
            % {"url": password_set_url(user)},
        ]
        if not accounts.has_authenticator(user):
            _link, raw = accounts.enrolment_link_issue(user=user, issued_by=None)
            lines.append(
                _("2. After logging in, link your authenticator app (the link works once): %(url)s")
                % {"url": accounts.enrolment_link_url(raw)}
            )
        send_mail(
            _("Invitation to the study %(study)s") % {"study": study.name},
            "\n\n".join(lines),
            None,
            [user.email],
        )
        sent += 1
    return sent
