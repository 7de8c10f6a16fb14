from django.urls import path

from gaoxin.indicators import views

app_name = "indicators"

urlpatterns = [
    path("", views.indicator_list, name="list"),
    path("targets/", views.targets, name="targets"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("bigscreen/", views.bigscreen, name="bigscreen"),
    path("dashboard/<slug:chart>.xlsx", views.chart_export, name="chart_export"),
    path("enterprise/<int:pk>/", views.enterprise_figures, name="enterprise"),
    path("<slug:code>/", views.indicator_detail, name="detail"),
    path("<slug:code>/lineage.xlsx", views.indicator_lineage, name="lineage"),
]
