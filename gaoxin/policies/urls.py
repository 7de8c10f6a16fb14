from django.urls import path

from gaoxin.policies.views import setup as views

app_name = "policies"

urlpatterns = [
    path("", views.policy_list, name="list"),
    path("new/", views.policy_create, name="create"),
    path("mine/", views.my_policies, name="mine"),
    path("<int:pk>/", views.policy_detail, name="detail"),
    path("<int:pk>/status/", views.policy_status, name="status"),
    path("<int:pk>/measures/", views.measure_add, name="measure_add"),
    path("<int:pk>/measures/<int:measure_pk>/params/", views.measure_params, name="measure_params"),
    path("<int:pk>/measures/<int:measure_pk>/budget/", views.budget_set, name="budget_set"),
]
