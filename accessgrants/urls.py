"""The policy pages, under the organization they belong to."""

from __future__ import annotations

from django.urls import path

from accessgrants import policypages

PREFIX = "o/<str:name>/policies/"
ONE = f"{PREFIX}<str:policy>/"

urlpatterns = [
    path(PREFIX, policypages.policy_list, name="policies"),
    path(ONE, policypages.policy_detail, name="policy"),
    path(f"{ONE}attach/", policypages.policy_attach, name="policy_attach"),
    path(f"{ONE}detach/", policypages.policy_detach, name="policy_detach"),
    path(f"{ONE}delete/", policypages.policy_delete, name="policy_delete"),
    path("o/<str:name>/simulate/", policypages.simulator, name="policy_simulator"),
]
