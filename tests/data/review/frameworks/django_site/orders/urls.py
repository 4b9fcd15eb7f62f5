from django.urls import path, re_path

from orders import views

urlpatterns = [
    path("orders/<int:pk>/", views.order_detail),
    re_path(r"^orders/recent/$", views.RecentOrders.as_view()),
]
