from django.contrib.auth import views as auth_views
from django.urls import path

from apps.core import views
from apps.portal.views.auth import LoginView

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("login/", LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
