from django.urls import path

from apps.reports import views

app_name = "reports"

urlpatterns = [
    path("", views.index, name="index"),
    path("download/<str:kind>.<str:report_format>", views.download, name="download"),
    path("exports/", views.export_start, name="export_start"),
    path("exports/<int:export_id>/", views.export_detail, name="export"),
    path("exports/<int:export_id>/status", views.export_status, name="export_status"),
    path("exports/<int:export_id>/file", views.export_file, name="export_file"),
    path("schedules/", views.schedules, name="schedules"),
    path("schedules/<int:schedule_id>/", views.schedule_edit, name="schedule_edit"),
    path("schedules/<int:schedule_id>/toggle", views.schedule_toggle, name="schedule_toggle"),
]
