from __future__ import annotations

from rest_framework.routers import SimpleRouter

from accessgrants.api.views import GrantViewSet

router = SimpleRouter()
router.register("grants", GrantViewSet, basename="grant")

urlpatterns = router.urls
