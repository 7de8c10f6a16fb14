from django.urls import path

from gaoxin.core.import_views import flow_urls
from gaoxin.registry import views
from gaoxin.registry.import_views import ENTERPRISE_FLOW

app_name = "registry"
urlpatterns = [
    path("", views.enterprise_list, name="list"),
    path("export.xlsx", views.enterprise_export, name="export"),
    path("new/", views.enterprise_create, name="create"),
    path("<int:pk>/", views.enterprise_detail, name="detail"),
    path("<int:pk>/edit/", views.enterprise_edit, name="edit"),
    path("<int:pk>/delete/", views.enterprise_delete, name="delete"),
    path("<int:pk>/qualifications/new/", views.qualification_create, name="qualification_create"),
    path("qualifications/<int:pk>/edit/", views.qualification_edit, name="qualification_edit"),
    path(
        "qualifications/<int:pk>/delete/", views.qualification_delete, name="qualification_delete"
    ),
    *flow_urls(ENTERPRISE_FLOW),
    path("chains/", views.chain_list, name="chains"),
    path("chains/<int:pk>/", views.chain_edit, name="chain_edit"),
    path("sei-review/", views.sei_review, name="sei_review"),
    path("sei-review/<int:pk>/", views.sei_review_decide, name="sei_review_decide"),
]
