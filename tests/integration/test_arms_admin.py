"""The Django admin as the ARMS console (rules §7, rules §10): deleting or renaming an `sae:` group
or policy, or an ARMS contact linked to an SAE contact, is refused unless the operator ticks
"I understand SAE notifications will break"; editing an `sae:` group's members warns."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from arms_sync import services
from arms_sync.managed import ensure_managed
from arms_sync.models import ArmsContact, ContactGroup, NotificationPolicy
from contacts.models import Contact
from contacts.services import create_contact
from tests.factories import ArmsContactFactory, ContactGroupFactory, RamUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def linked(account, owner_principal):
    user = RamUserFactory(account=account, user_name="alice")
    return create_contact(principal=owner_principal, ram_user=user, phone="13811112222")


@pytest.fixture
def managed(account, linked):
    return ensure_managed(account)


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def _managed_object(which: str, managed, linked):
    """The `sae:contacts` group, the `sae:default` policy or a linked ARMS contact."""
    return {
        "group": managed.contacts_group,
        "policy": managed.default_policy,
        "contact": linked.arms_contact,
    }[which]


def _change_url(obj):
    return reverse(f"admin:arms_sync_{obj._meta.model_name}_change", args=[obj.pk])


def _delete_url(obj):
    return reverse(f"admin:arms_sync_{obj._meta.model_name}_delete", args=[obj.pk])


def _changelist(model):
    return reverse(f"admin:arms_sync_{model._meta.model_name}_changelist")


def _group_data(group, **extra):
    return {
        "name": group.name,
        "description": group.description,
        "members": [m.pk for m in group.members.all()],
        **extra,
    }


def _policy_data(policy, **extra):
    return {
        "name": policy.name,
        "match_labels": '{"source": "sae"}',
        "groups": [g.pk for g in policy.groups.all()],
        "enabled": "on",
        **extra,
    }


def _arms_data(arms, **extra):
    return {
        "contact_id": arms.contact_id,
        "name": arms.name,
        "phone": str(arms.phone),
        "email": arms.email,
        "ding_robot_url": "",
        "ding_robot_secret": "",
        "wecom_robot_url": "",
        **extra,
    }


@pytest.mark.parametrize("model", [ArmsContact, ContactGroup, NotificationPolicy])
def test_every_arms_model_is_registered_searchable_and_filterable(admin_client, managed, model):
    """rules §10: every model in the admin, searchable; filters by account and by managed."""
    response = admin_client.get(_changelist(model), {"q": "sae", "managed": "yes"})
    assert response.status_code == 200
    response = admin_client.get(_changelist(model), {"managed": "no"})
    assert response.status_code == 200


def test_managed_filter_keeps_only_sae_objects(admin_client, account, managed):
    ContactGroupFactory(account=account, name="night-shift")
    response = admin_client.get(_changelist(ContactGroup), {"managed": "yes"})
    names = {g.name for g in response.context["cl"].result_list}
    assert names == {"sae:contacts", "sae:approvers"}


# --- renaming ------------------------------------------------------------------------------


def test_renaming_a_managed_group_without_confirmation_is_a_form_error(admin_client, managed):
    group = managed.contacts_group
    response = admin_client.post(_change_url(group), _group_data(group, name="contacts"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert services.BREAKS_MANAGED_OBJECT.format(name="sae:contacts") in response.text
    group.refresh_from_db()
    assert group.name == "sae:contacts"


def test_renaming_a_managed_group_with_confirmation_succeeds(admin_client, managed):
    group = managed.contacts_group
    data = _group_data(group, name="contacts", confirm_break="on")
    response = admin_client.post(_change_url(group), data)
    assert response.status_code == 302
    group.refresh_from_db()
    assert group.name == "contacts"


def test_renaming_the_default_policy_needs_confirmation(admin_client, managed):
    policy = managed.default_policy
    response = admin_client.post(_change_url(policy), _policy_data(policy, name="default"))
    assert response.status_code == 200
    assert NotificationPolicy.objects.get(pk=policy.pk).name == "sae:default"
    data = _policy_data(policy, name="default", confirm_break="on")
    assert admin_client.post(_change_url(policy), data).status_code == 302
    assert NotificationPolicy.objects.get(pk=policy.pk).name == "default"


def test_renaming_a_linked_arms_contact_needs_confirmation(admin_client, linked):
    arms = linked.arms_contact
    response = admin_client.post(_change_url(arms), _arms_data(arms, name="Alice in ARMS"))
    assert response.status_code == 200
    assert "linked to the SAE contact alice" in response.text
    assert ArmsContact.objects.get(pk=arms.pk).name == "alice"
    data = _arms_data(arms, name="Alice in ARMS", confirm_break="on")
    assert admin_client.post(_change_url(arms), data).status_code == 302
    arms.refresh_from_db()
    assert arms.name == "Alice in ARMS"
    assert arms.sae_contact == linked  # the link is SAE's: the admin never changes it


def test_editing_a_linked_contact_without_renaming_needs_no_confirmation(admin_client, linked):
    arms = linked.arms_contact
    data = _arms_data(arms, email="alerts@example.com")
    assert admin_client.post(_change_url(arms), data).status_code == 302
    assert ArmsContact.objects.get(pk=arms.pk).email == "alerts@example.com"


def test_a_new_group_may_not_take_an_sae_name(admin_client, account):
    response = admin_client.post(
        reverse("admin:arms_sync_contactgroup_add"),
        {"account": account.pk, "name": "sae:mine", "description": ""},
    )
    assert response.status_code == 200
    assert services.RESERVED_PREFIX in response.text
    assert not ContactGroup.objects.filter(name="sae:mine").exists()


def test_arms_contact_phone_of_another_contact_is_a_form_error(admin_client, account, linked):
    other = ArmsContactFactory(account=account)
    response = admin_client.post(_change_url(other), _arms_data(other, phone=str(linked.phone)))
    assert response.status_code == 200
    assert services.PHONE_TAKEN in response.text


# --- members -------------------------------------------------------------------------------


def test_editing_members_of_sae_contacts_warns(admin_client, account, managed, linked):
    """rules §7: editing an `sae:` group's members warns (and saves)."""
    extra = ArmsContactFactory(account=account)
    group = managed.contacts_group
    data = _group_data(group, members=[linked.arms_contact.pk, extra.pk])
    response = admin_client.post(_change_url(group), data)
    assert response.status_code == 302
    warning = services.MEMBERS_OF_MANAGED_GROUP.format(name="sae:contacts")
    assert warning in _messages(response)
    assert group.members.count() == 2


def test_editing_members_of_an_ordinary_group_does_not_warn(admin_client, account):
    group = ContactGroupFactory(account=account, name="night-shift")
    member = ArmsContactFactory(account=account)
    response = admin_client.post(_change_url(group), _group_data(group, members=[member.pk]))
    assert response.status_code == 302
    assert not any("SAE manages" in m for m in _messages(response))


def test_members_must_belong_to_the_groups_account(admin_client, account, other_account):
    group = ContactGroupFactory(account=account, name="night-shift")
    stranger = ArmsContactFactory(account=other_account)
    response = admin_client.post(_change_url(group), _group_data(group, members=[stranger.pk]))
    assert response.status_code == 200
    assert group.members.count() == 0


# --- deleting ------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["group", "policy", "contact"])
def test_deleting_a_managed_object_without_confirmation_changes_nothing(
    admin_client, managed, linked, which
):
    obj = _managed_object(which, managed, linked)
    page = admin_client.get(_delete_url(obj))
    assert page.status_code == 200
    assert 'name="confirm_break"' in page.text
    response = admin_client.post(_delete_url(obj), {"post": "yes"})
    assert response.status_code == 302
    assert any(m.startswith("Nothing was deleted") for m in _messages(response))
    assert type(obj).objects.filter(pk=obj.pk).exists()


@pytest.mark.parametrize("which", ["group", "policy", "contact"])
def test_deleting_a_managed_object_with_confirmation_succeeds(admin_client, managed, linked, which):
    obj = _managed_object(which, managed, linked)
    response = admin_client.post(_delete_url(obj), {"post": "yes", "confirm_break": "on"})
    assert response.status_code == 302
    assert not type(obj).objects.filter(pk=obj.pk).exists()


def test_deleting_a_linked_arms_contact_leaves_the_sae_contact_not_linked(admin_client, linked):
    """rules §5: when an ARMS contact is deleted on the ARMS side the SAE contact stays."""
    admin_client.post(_delete_url(linked.arms_contact), {"post": "yes", "confirm_break": "on"})
    contact = Contact.objects.get(pk=linked.pk)
    assert not ArmsContact.objects.filter(sae_contact=contact).exists()


def test_deleting_an_ordinary_object_needs_no_confirmation(admin_client, account):
    group = ContactGroupFactory(account=account, name="night-shift")
    page = admin_client.get(_delete_url(group))
    assert 'name="confirm_break"' not in page.text
    admin_client.post(_delete_url(group), {"post": "yes"})
    assert not ContactGroup.objects.filter(pk=group.pk).exists()


def test_bulk_delete_with_a_managed_group_needs_confirmation(admin_client, account, managed):
    ordinary = ContactGroupFactory(account=account, name="night-shift")
    pks = [managed.approvers_group.pk, ordinary.pk]
    data = {"action": "delete_selected", "_selected_action": pks}
    page = admin_client.post(_changelist(ContactGroup), data)
    assert page.status_code == 200 and 'name="confirm_break"' in page.text
    response = admin_client.post(_changelist(ContactGroup), {**data, "post": "yes"})
    assert response.status_code == 200  # the confirmation page again
    assert any(m.startswith("Nothing was deleted") for m in _messages(response))
    assert ContactGroup.objects.filter(pk__in=pks).count() == 2
    response = admin_client.post(
        _changelist(ContactGroup), {**data, "post": "yes", "confirm_break": "on"}
    )
    assert response.status_code == 302
    assert ContactGroup.objects.filter(pk__in=pks).count() == 0


def test_bulk_delete_of_ordinary_contacts_needs_no_confirmation(admin_client, account):
    contacts = [ArmsContactFactory(account=account) for _ in range(2)]
    data = {
        "action": "delete_selected",
        "_selected_action": [c.pk for c in contacts],
        "post": "yes",
    }
    assert admin_client.post(_changelist(ArmsContact), data).status_code == 302
    assert not ArmsContact.objects.filter(account=account).exists()


def test_services_refuse_unconfirmed_changes_directly(managed, linked):
    """rules §7 in the service layer (used by the admin, pages and commands alike)."""
    with pytest.raises(services.ManagedObjectProtected):
        services.delete_group(group=managed.contacts_group)
    with pytest.raises(services.ManagedObjectProtected):
        services.rename_policy(policy=managed.default_policy, name="x")
    with pytest.raises(services.ManagedObjectProtected):
        services.rename_arms_contact(arms_contact=linked.arms_contact, name="x")
    assert ContactGroup.objects.filter(pk=managed.contacts_group.pk).exists()
    services.rename_arms_contact(arms_contact=linked.arms_contact, name="x", confirm_break=True)
    assert ArmsContact.objects.get(pk=linked.arms_contact.pk).name == "x"


@pytest.mark.parametrize("which", ["group", "policy", "contact"])
def test_change_and_add_forms_offer_the_confirmation_tick(admin_client, managed, linked, which):
    """rules §7: the change form carries "I understand SAE notifications will break"."""
    obj = _managed_object(which, managed, linked)
    page = admin_client.get(_change_url(obj))
    assert page.status_code == 200
    assert services.CONFIRM_BREAK_LABEL in page.text
    add = reverse(f"admin:arms_sync_{obj._meta.model_name}_add")
    assert admin_client.get(add).status_code == 200


def test_the_linked_contact_change_form_shows_the_sae_contact(admin_client, linked):
    page = admin_client.get(_change_url(linked.arms_contact))
    assert "alice" in page.text
    assert 'name="sae_contact"' not in page.text  # the link is SAE's, read-only here


def test_admin_adds_an_arms_contact_through_the_service(admin_client, account):
    response = admin_client.post(
        reverse("admin:arms_sync_armscontact_add"),
        {
            "account": account.pk,
            "contact_id": 4242,
            "name": "Pager",
            "phone": "+8613900004242",
            "email": "",
            "ding_robot_url": "",
            "ding_robot_secret": "",
            "wecom_robot_url": "",
        },
    )
    assert response.status_code == 302
    assert ArmsContact.objects.get(account=account, contact_id=4242).sae_contact is None


# --- secrets ---------------------------------------------------------------------------------

ARMS_DING_TOKEN = "d1ce" + "7" * 56 + "beef"
ARMS_WECOM_KEY = "0a1b2c3d-aaaa-4bbb-8ccc-0d1e2f3a4b5c"
ARMS_DING_URL = f"https://oapi.dingtalk.com/robot/send?access_token={ARMS_DING_TOKEN}"
ARMS_WECOM_URL = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={ARMS_WECOM_KEY}"
ARMS_SECRET = "SEC" + "f00dcafe" * 8


@pytest.fixture
def robot_contact(account):
    return ArmsContactFactory(
        account=account,
        ding_robot_url=ARMS_DING_URL,
        ding_robot_secret=ARMS_SECRET,
        wecom_robot_url=ARMS_WECOM_URL,
    )


def test_arms_contact_change_page_never_shows_robot_tokens_or_the_secret(
    admin_client, robot_contact
):
    """Secrets (rules §4 robots, rules §8: never echoed back in full after saving): the ARMS
    console's change form shows the robot URLs and the signing secret masked only."""
    page = admin_client.get(_change_url(robot_contact)).content.decode()
    for secret in (ARMS_DING_TOKEN, ARMS_WECOM_KEY, ARMS_SECRET):
        assert secret not in page
    assert "SEC…" in page  # the mask says a secret is saved


def test_arms_contact_saved_with_blank_secret_fields_keeps_them(admin_client, robot_contact):
    """A blank robot or secret field on the change form means "unchanged" (it is never
    pre-filled); the operator's other edits are saved."""
    data = _arms_data(robot_contact, name="Pager duty")
    response = admin_client.post(_change_url(robot_contact), data)
    assert response.status_code == 302
    robot_contact.refresh_from_db()
    assert robot_contact.name == "Pager duty"
    assert robot_contact.ding_robot_url == ARMS_DING_URL
    assert robot_contact.ding_robot_secret == ARMS_SECRET
    assert robot_contact.wecom_robot_url == ARMS_WECOM_URL


def test_arms_contact_robot_and_secret_are_replaced_or_removed(admin_client, robot_contact):
    new_url = ARMS_DING_URL.replace("beef", "f00d")
    data = _arms_data(
        robot_contact,
        ding_robot_url=new_url,
        clear_ding_robot_secret="on",
        clear_wecom_robot_url="on",
    )
    response = admin_client.post(_change_url(robot_contact), data)
    assert response.status_code == 302
    robot_contact.refresh_from_db()
    assert robot_contact.ding_robot_url == new_url
    assert robot_contact.ding_robot_secret == ""
    assert robot_contact.wecom_robot_url == ""


@pytest.mark.parametrize(
    "labels",
    ['{"source": "sae\\u0000"}', '["source", "sae"]', '{"source": 1}'],
    ids=["NUL character", "not an object", "not text"],
)
def test_notification_policy_match_labels_must_be_an_object_of_texts(admin_client, account, labels):
    """rules §7/§10: the admin refuses match labels that are not label -> value texts with a form
    error (a NUL character used to answer 500 on PostgreSQL, which cannot store it)."""
    policy = NotificationPolicy.objects.create(account=account, name="night")
    response = admin_client.post(
        _change_url(policy), {"name": "night", "match_labels": labels, "enabled": "on"}
    )
    assert response.status_code == 200
    assert "match_labels" in response.context["adminform"].form.errors
    policy.refresh_from_db()
    assert policy.match_labels == {}
