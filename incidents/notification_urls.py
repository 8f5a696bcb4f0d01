from django.urls import path

from incidents import notification_views as views

app_name = "notifications"
urlpatterns = [
    path("", views.notification_list, name="list"),
    path("<int:pk>", views.notification_open_view, name="open"),
    path("read", views.notification_mark_all_read, name="mark-all-read"),
]
