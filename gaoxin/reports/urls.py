from django.urls import path

from gaoxin.core.import_views import flow_urls
from gaoxin.reports import views
from gaoxin.reports.import_views import REPORT_FLOW

app_name = "reports"
urlpatterns = [
    path("", views.index, name="index"),
    path("mine/", views.my_reports, name="mine"),
    path("mine/<int:period_pk>/", views.fill, name="fill"),
    path("mine/<int:period_pk>/check/", views.check, name="check"),
    path("worklist/", views.worklist, name="worklist"),
    path("worklist/export.xlsx", views.worklist_export, name="worklist_export"),
    path("periods/", views.periods, name="periods"),
    *flow_urls(REPORT_FLOW),
    path("<int:pk>/", views.report_detail, name="detail"),
    path("<int:pk>/accept/", views.accept, name="accept"),
    path("<int:pk>/return/", views.return_report, name="return"),
    path("<int:pk>/correct/", views.correct, name="correct"),
]
