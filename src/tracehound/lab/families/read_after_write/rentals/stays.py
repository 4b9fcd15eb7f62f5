"""The rentals app: listings (written by hosts) and listing cards (what guests and hosts browse)."""

from django.apps import AppConfig


class StaysConfig(AppConfig):
    name = "stays"
    label = "stays"
    verbose_name = "Stays"
