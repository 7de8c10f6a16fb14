"""Enterprise import over the API: the shared import router with the enterprise flow."""

from gaoxin.core.import_api import import_router
from gaoxin.registry.import_views import ENTERPRISE_FLOW

router = import_router(ENTERPRISE_FLOW, base="/registry/imports", tag="registry-import")
