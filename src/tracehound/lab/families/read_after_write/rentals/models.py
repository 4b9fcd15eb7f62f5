"""Listings and their cards: the tables exist already (schema.sql); Django does not migrate them."""

from __future__ import annotations

from django.db import models


class Listing(models.Model):
    host = models.TextField()
    title = models.TextField()
    city = models.TextField()
    nightly_rate = models.IntegerField()
    status = models.TextField(default="draft")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        app_label = "stays"
        db_table = "listings"
        managed = False


class ListingCard(models.Model):
    listing_id = models.IntegerField(primary_key=True)
    host = models.TextField()
    headline = models.TextField()
    city = models.TextField()
    nightly_rate = models.IntegerField()
    status = models.TextField()
    badges = models.JSONField(default=list)
    refreshed_at = models.DateTimeField()

    class Meta:
        app_label = "stays"
        db_table = "listing_cards"
        managed = False
