from django.urls import path

from gaoxin.registry import views

app_name = "registry"
urlpatterns = [
    path("", views.enterprise_list, name="list"),
    path("<int:pk>/", views.enterprise_detail, name="detail"),
    path("import/", views.import_page, name="import"),
    path("chains/", views.chain_list, name="chains"),
    path("sei-review/", views.sei_review, name="sei_review"),
]
