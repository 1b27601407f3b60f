from django.urls import path

from ram_directory import approval_views, views

app_name = "ram"
urlpatterns = [
    path("users/", views.user_list, name="user_list"),
    path("users/<str:user_id>/", views.user_detail, name="user_detail"),
    path("users/<str:user_id>/authorize/", views.user_authorize, name="user_authorize"),
    path(
        "users/<str:user_id>/policies/<str:policy_name>/detach/",
        views.user_detach,
        name="user_detach",
    ),
    path("policies/", views.policy_list, name="policy_list"),
    # Before <name>/: "create" is reserved as a policy name (forms.RESERVED_POLICY_NAMES).
    path("policies/create/", views.policy_create, name="policy_create"),
    path("policies/<str:name>/", views.policy_detail, name="policy_detail"),
    path("policies/<str:name>/edit/", views.policy_edit, name="policy_edit"),
    path("policies/<str:name>/authorize/", views.policy_authorize, name="policy_authorize"),
    path("policies/<str:name>/delete/", views.policy_delete, name="policy_delete"),
    # Permission approval (rules §9).
    path("approvals/", approval_views.approval_list, name="approval_list"),
    path("approvals/request/", approval_views.approval_request, name="approval_request"),
    path("approvals/<int:pk>/approve/", approval_views.approval_approve, name="approval_approve"),
    path("approvals/<int:pk>/reject/", approval_views.approval_reject, name="approval_reject"),
    path(
        "approvals/<int:pk>/withdraw/", approval_views.approval_withdraw, name="approval_withdraw"
    ),
]
