from django.urls import path

from gaoxin.core import views

app_name = "core"
urlpatterns = [
    path("", views.audit_search, name="audit"),
    path("object/<str:model>/<str:object_id>/", views.audit_object, name="audit_object"),
]
