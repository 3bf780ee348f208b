"""Self-service password change and reset by e-mail: Django's views in the site's layout, with
the validators of AUTH_PASSWORD_VALIDATORS. A changed password also ends the user's API tokens
(their other sessions end by Django's session hash); a reset e-mail points at SITE_URL, never at
the Host header of the request."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.http import HttpResponseRedirect
from rest_framework.authtoken.models import Token

from study.services.languages import in_language_of


class PasswordChangeView(auth_views.PasswordChangeView):
    def form_valid(self, form):
        response = super().form_valid(form)
        Token.objects.filter(user=form.user).delete()
        return response


class LanguagePasswordResetForm(PasswordResetForm):
    """The reset e-mail in the language its recipient chose (not the requester's browser's)."""

    def send_mail(self, subject_template_name, email_template_name, context, *args, **kwargs):
        with in_language_of(context.get("user")):
            super().send_mail(subject_template_name, email_template_name, context, *args, **kwargs)


class PasswordResetView(auth_views.PasswordResetView):
    form_class = LanguagePasswordResetForm

    def form_valid(self, form):
        site = urlsplit(settings.SITE_URL)
        form.save(
            domain_override=site.netloc or None,
            use_https=site.scheme == "https",
            token_generator=self.token_generator,
            from_email=self.from_email,
            email_template_name=self.email_template_name,
            subject_template_name=self.subject_template_name,
            request=self.request,
            html_email_template_name=self.html_email_template_name,
            extra_email_context=self.extra_email_context,
        )
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form):
        response = super().form_valid(form)
        Token.objects.filter(user=form.user).delete()
        return response
