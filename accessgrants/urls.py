"""The policy pages, under the organization they belong to, and the caller's S3 keys."""

from __future__ import annotations

from django.urls import path

from accessgrants import keypages, policypages

PREFIX = "o/<str:name>/policies/"
ONE = f"{PREFIX}<str:policy>/"

urlpatterns = [
    path(PREFIX, policypages.policy_list, name="policies"),
    path(ONE, policypages.policy_detail, name="policy"),
    path(f"{ONE}attach/", policypages.policy_attach, name="policy_attach"),
    path(f"{ONE}detach/", policypages.policy_detach, name="policy_detach"),
    path(f"{ONE}delete/", policypages.policy_delete, name="policy_delete"),
    path("o/<str:name>/simulate/", policypages.simulator, name="policy_simulator"),
    path(
        "o/<str:name>/key-requests/<int:request_id>/decide/",
        keypages.key_request_decide,
        name="key_request_decide",
    ),
    path("o/<str:name>/key-policy/", keypages.key_policy_update, name="key_policy_update"),
    path("keys/", keypages.key_list, name="access_keys"),
    path(
        "keys/requests/<int:request_id>/collect/",
        keypages.key_request_action,
        {"action": "collect"},
        name="key_collect",
    ),
    path(
        "keys/requests/<int:request_id>/withdraw/",
        keypages.key_request_action,
        {"action": "withdraw"},
        name="key_withdraw",
    ),
    *[
        path(f"keys/<str:access_key_id>/{action}/", keypages.key_action, {"action": action}, name=f"key_{action}")
        for action in keypages.KEY_ACTIONS
    ],
]
