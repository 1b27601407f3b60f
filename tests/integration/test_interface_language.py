"""rules §11 and §12 around the edges of the catalogue: texts the console stores in English and
shows translated (the system policies' and the sae: groups' descriptions), the merge report's
punctuation in Chinese, the language switch on the sign-in page, and a menu that links only
the pages the principal may open."""

# Chinese text is written with full-width punctuation on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from arms_sync.managed import ensure_managed
from arms_sync.merge.rows import CREATED, SKIPPED, UNCHANGED, MergePlan
from arms_sync.models import MANAGED_GROUP_DESCRIPTIONS, ContactGroup
from ram_directory import approvals
from ram_directory.models import CONSOLE_POLICY_DESCRIPTIONS, SYSTEM_POLICY_DESCRIPTIONS, Policy
from ram_directory.system_policies import SYSTEM_POLICIES
from tests.factories import PolicyFactory
from tests.integration.contacts_support import ram_user_named

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _back_to_the_default_language():
    yield
    translation.activate(settings.LANGUAGE_CODE)


def test_the_system_policies_descriptions_are_the_ones_stored():
    assert {
        name: description for name, (description, _document) in SYSTEM_POLICIES.items()
    } == SYSTEM_POLICY_DESCRIPTIONS


def test_a_system_policys_description_is_shown_in_the_readers_language(account):
    policy = Policy.objects.get(account=account, name="AdministratorAccess")
    custom = PolicyFactory(account=account, description="Ours, as written.")
    with translation.override("zh-hans"):
        assert policy.display_description == "管理所有阿里云资源的权限。"
        assert custom.display_description == "Ours, as written."
    assert policy.display_description == SYSTEM_POLICY_DESCRIPTIONS["AdministratorAccess"]


def test_an_edited_system_description_is_shown_as_written(account):
    policy = Policy.objects.get(account=account, name="AdministratorAccess")
    policy.description = "Changed by an operator."
    with translation.override("zh-hans"):
        assert policy.display_description == "Changed by an operator."


def test_the_sae_groups_descriptions_are_shown_in_the_readers_language(account):
    managed = ensure_managed(account)
    group = ContactGroup.objects.get(pk=managed.contacts_group.pk)
    assert group.description == MANAGED_GROUP_DESCRIPTIONS[group.name]
    with translation.override("zh-hans"):
        assert group.display_description == "与 SAE 联系人关联的全部 ARMS 联系人（由 SAE 管理）。"


def in_chinese(client, url_name: str) -> str:
    """The page at `url_name` as the client sees it after choosing 简体中文."""
    client.post(reverse("set_language"), {"language": "zh-hans", "next": "/"})
    return client.get(reverse(url_name)).text


def test_the_group_pages_show_the_translated_description(owner_client, account):
    ensure_managed(account)
    page = in_chinese(owner_client, "arms:group_list")
    assert "接收 SAE 的权限审批申请（由 SAE 管理）。" in page
    assert "Receives SAE permission-approval requests" not in page


def test_the_approval_grant_policys_description_is_shown_in_the_readers_language(account):
    grant = approvals._grant_policy(account)
    assert grant.description == CONSOLE_POLICY_DESCRIPTIONS[approvals.GRANT_POLICY_NAME]
    with translation.override("zh-hans"):
        assert grant.display_description == "由 SAE 权限审批授予：列出并查看 RAM 用户。"


def test_the_admin_lists_show_the_console_descriptions_translated(operator_client, account):
    ensure_managed(account)
    policies = in_chinese(operator_client, "admin:ram_directory_policy_changelist")
    assert "管理所有阿里云资源的权限。" in policies
    assert "Provides full access" not in policies
    groups = in_chinese(operator_client, "admin:arms_sync_contactgroup_changelist")
    assert "接收 SAE 的权限审批申请（由 SAE 管理）。" in groups
    assert "Receives SAE permission-approval requests" not in groups


# Latin letters a Chinese model or field name may keep: names the real console keeps, and the
# robots' own answer fields.
KEPT_IN_NAMES = {"ID", "RAM", "ARMS", "SAE", "URL", "HTTP", "errcode", "errmsg"}
OUR_APPS = {"ram_directory", "contacts", "arms_sync"}


def _names_of_our_models():
    for config in apps.get_app_configs():
        if config.name not in OUR_APPS:
            continue
        for model in config.get_models():
            meta = model._meta
            yield model.__name__, "verbose_name", meta.verbose_name
            yield model.__name__, "verbose_name_plural", meta.verbose_name_plural
            for field in meta.get_fields():
                if hasattr(field, "verbose_name"):
                    yield model.__name__, field.name, field.verbose_name


def test_every_model_and_field_of_ours_has_a_chinese_name():
    """rules §12: the admin (and every form built from a model) names models and fields in
    Chinese; a name without verbose_name, or a plural left to Django ("RAM 用户s"), stays
    English."""
    with translation.override("zh-hans"):
        english = [
            (model, what, str(name))
            for model, what, name in _names_of_our_models()
            if set(re.findall(r"[A-Za-z]+", str(name))) - KEPT_IN_NAMES
        ]
    assert english == []


class _Counts(MergePlan):
    """A plan with given counts (the summary reads only them)."""

    def __init__(self, counts: dict[str, int]):
        object.__setattr__(self, "rows", ())
        object.__setattr__(self, "_counts", counts)

    @property
    def counts(self) -> dict[str, int]:
        return self._counts


def test_the_merge_summary_keeps_acronyms_and_uses_chinese_punctuation():
    plan = _Counts({CREATED: 1, "arms_created": 2, UNCHANGED: 0, SKIPPED: 3})
    assert plan.summary() == "contact created: 1, ARMS contact created: 2, skipped: 3"
    with translation.override("zh-hans"):
        assert plan.summary() == "已创建联系人：1，已创建 ARMS 联系人：2，已跳过：3"


def test_the_sign_in_page_has_a_language_switch(client):
    page = client.get(reverse("signin")).text
    assert f'action="{reverse("set_language")}"' in page
    assert '<option value="zh-hans" lang="zh-hans">简体中文</option>' in page
    client.post(reverse("set_language"), {"language": "zh-hans", "next": reverse("signin")})
    assert "登录" in client.get(reverse("signin")).text


def _menu(page: str) -> str:
    return page[page.index('id="console-nav"') : page.index("</nav>", page.index("console-nav"))]


def test_a_ram_user_without_list_users_is_offered_only_what_it_may_open(sign_in, account):
    carol = ram_user_named(account, "carol")
    menu = _menu(sign_in(carol).get(reverse("contacts:list")).text)
    assert reverse("contacts:list") in menu
    assert reverse("ram:approval_list") in menu
    for hidden in ("ram:user_list", "ram:policy_list", "arms:contact_list", "arms:group_list"):
        assert reverse(hidden) not in menu, hidden
    for hidden in ("arms:policy_list", "notify:delivery_list", "alerts:alert_list"):
        assert reverse(hidden) not in menu, hidden


def test_the_owner_and_a_ram_user_with_list_users_are_offered_every_page(sign_in, account, owner):
    alice = ram_user_named(account, "alice", list_users=True)
    for who in (owner, alice):
        menu = _menu(sign_in(who).get(reverse("contacts:list")).text)
        for name in ("ram:user_list", "arms:contact_list", "notify:delivery_list"):
            assert reverse(name) in menu, (who, name)
