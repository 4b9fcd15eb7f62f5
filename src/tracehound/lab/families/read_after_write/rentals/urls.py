from django.urls import path

import views

urlpatterns = [
    path("health", views.health),
    path("api/listings", views.listings),
    path("api/listings/<int:listing_id>", views.listing),
    path("api/hosts/<str:host>/listings", views.host_listings),
]
