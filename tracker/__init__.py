"""Django project for the effect-study tracker; wires the apps together, holds no domain logic."""

from .celery import app as celery_app

__all__ = ("celery_app",)
