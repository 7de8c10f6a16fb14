from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PoliciesConfig(AppConfig):
    name = "gaoxin.policies"
    verbose_name = _("政策资金")
