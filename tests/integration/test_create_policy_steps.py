"""Create Policy in the seed's two steps (rules §2, seed Step 1.1): the Script Editor's Confirm
validates the document alone; the Create Policy dialog (htmx) or page (no JavaScript) then asks
Name and Description, carrying the document in a hidden field that the last Confirm validates
again, since a browser may send anything there."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse
from django.utils.html import escape

from ram_directory.forms import POLICY_NAME_RESERVED
from ram_directory.models import Policy
from ram_directory.services import POLICY_NAME_TAKEN

pytestmark = pytest.mark.django_db

URL = "/ram/policies/create/"
HTMX = {"HX-Request": "true"}
SEED_DOCUMENT = {
    "Version": "1",
    "Statement": [{"Effect": "Allow", "Action": ["ram:ListUsers", "ram:GetUser"], "Resource": "*"}],
}
SEED_TEXT = json.dumps(SEED_DOCUMENT, indent=2)
PERMIT = json.dumps(
    {"Version": "1", "Statement": [{"Effect": "Permit", "Action": "ram:*", "Resource": "*"}]}
)
PERMIT_ERROR = "Statement[0].Effect: must be &quot;Allow&quot; or &quot;Deny&quot;"


def hidden_document(text: str) -> dict:
    """The document step 2 carries, read from its hidden field."""
    value = re.search(r'<input type="hidden" name="document" value="([^"]*)"', text)
    assert value, "step 2 carries no document"
    return json.loads(value.group(1).replace("&quot;", '"'))


def test_the_url_is_still_create():
    assert reverse("ram:policy_create") == URL


def test_step_1_is_the_script_editor_alone(owner_client):
    page = owner_client.get(URL).text
    assert 'name="document"' in page and 'name="step" value="document"' in page
    assert 'name="name"' not in page and 'name="description"' not in page


def test_a_valid_document_leads_to_name_and_description_and_saves_nothing_yet(
    owner_client, account
):
    before = Policy.objects.count()
    response = owner_client.post(URL, {"step": "document", "document": SEED_TEXT})
    assert response.status_code == 200
    text = response.text
    assert "<html" in text  # without JavaScript: a second plain page
    assert 'name="name"' in text and 'name="description"' in text
    assert hidden_document(text) == SEED_DOCUMENT
    assert 'data-testid="policy-document"' in text and "ram:ListUsers" in text
    assert 'name="step" value="edit"' in text  # Back to Script Editor
    assert Policy.objects.count() == before


def test_the_last_confirm_creates_the_policy_from_the_carried_document(owner_client, account):
    step2 = owner_client.post(URL, {"step": "document", "document": SEED_TEXT}).text
    response = owner_client.post(
        URL,
        {
            "document": json.dumps(hidden_document(step2)),
            "name": "ListUsersForContacts",
            "description": "seed step 1",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("ram:policy_detail", args=["ListUsersForContacts"])
    policy = Policy.objects.get(account=account, name="ListUsersForContacts")
    assert policy.document == SEED_DOCUMENT and policy.description == "seed step 1"


def test_a_document_changed_between_the_steps_is_validated_again_and_refused(owner_client, account):
    """The hidden field is never trusted: a document made invalid after step 1 is refused on
    the last Confirm, with what and where, and nothing is saved."""
    owner_client.post(URL, {"step": "document", "document": SEED_TEXT})
    before = Policy.objects.count()
    response = owner_client.post(URL, {"document": PERMIT, "name": "Tampered", "description": ""})
    assert response.status_code == 422
    assert PERMIT_ERROR in response.text
    assert 'data-testid="document-errors"' in response.text
    assert 'value="Tampered"' in response.text  # the name is kept
    assert Policy.objects.count() == before
    # With htmx too: the dialog's form says so at its top (an alert focus can go to).
    dialog = owner_client.post(URL, {"document": "{not json", "name": "Tampered"}, headers=HTMX)
    assert dialog.status_code == 422 and "<html" not in dialog.text
    assert re.search(r'role="alert" tabindex="-1" id="id_document_error"', dialog.text)
    assert "Invalid JSON" in dialog.text
    assert Policy.objects.count() == before


def test_a_document_made_too_big_between_the_steps_is_refused(owner_client, account):
    big = json.dumps({**SEED_DOCUMENT, "Statement": SEED_DOCUMENT["Statement"] * 400})
    response = owner_client.post(URL, {"document": big, "name": "Big"})
    assert response.status_code == 422
    assert not Policy.objects.filter(name="Big").exists()


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "This field is required."),
        ("bad name!", "A policy name is 1-128 letters"),
        ("create", POLICY_NAME_RESERVED),
        ("AdministratorAccess", POLICY_NAME_TAKEN),
    ],
    ids=["empty", "invalid", "reserved", "duplicate"],
)
def test_a_refused_name_is_shown_in_the_dialog_with_the_document_kept(
    owner_client, account, name, message
):
    before = Policy.objects.count()
    response = owner_client.post(
        URL, {"document": SEED_TEXT, "name": name, "description": "kept"}, headers=HTMX
    )
    assert response.status_code == 422
    text = response.text
    assert text.lstrip().startswith("<form") and "<html" not in text  # the dialog's form
    assert escape(message) in text.split('data-testid="name-errors"')[1]
    assert re.search(r'<input type="text" name="name"[^>]*aria-invalid="true"', text)
    assert hidden_document(text) == SEED_DOCUMENT and re.search(r">\s*kept</textarea>", text)
    assert Policy.objects.count() == before


def test_with_htmx_the_editor_opens_the_dialog_or_shows_its_errors_in_place(owner_client):
    editor = owner_client.get(URL).text
    assert 'hx-post="/ram/policies/create/" hx-target="#modal-host"' in editor
    dialog = owner_client.post(URL, {"step": "document", "document": SEED_TEXT}, headers=HTMX)
    assert dialog.status_code == 200 and "HX-Retarget" not in dialog
    text = dialog.text
    assert text.lstrip().startswith('<div class="modal fade"')
    assert 'aria-labelledby="create-policy-title"' in text and 'id="create-policy-title"' in text
    assert "data-dialog-announcer" in text and 'data-bs-dismiss="modal"' in text
    assert 'name="step" value="edit"' not in text  # Cancel goes back to the editor
    assert hidden_document(text) == SEED_DOCUMENT
    refused = owner_client.post(URL, {"step": "document", "document": PERMIT}, headers=HTMX)
    assert refused.status_code == 422
    assert refused["HX-Retarget"] == "#policy-editor" and refused["HX-Reswap"] == "outerHTML"
    assert refused.text.lstrip().startswith('<form method="post" class="console-card"')
    assert PERMIT_ERROR in refused.text


def test_with_htmx_the_last_confirm_goes_to_the_new_policy(owner_client, account):
    response = owner_client.post(
        URL, {"document": SEED_TEXT, "name": "ViaDialog", "description": ""}, headers=HTMX
    )
    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("ram:policy_detail", args=["ViaDialog"])
    assert Policy.objects.filter(account=account, name="ViaDialog").exists()


def test_back_to_the_script_editor_keeps_the_document_name_and_description(owner_client):
    """Without JavaScript, step 2's Back to Script Editor (the dialog's Cancel) returns to the
    editor with the document; Name and Description come along, hidden, to step 2 again."""
    back = owner_client.post(
        URL,
        {"step": "edit", "document": json.dumps(SEED_DOCUMENT), "name": "Kept", "description": "d"},
    )
    assert back.status_code == 200
    text = back.text
    assert escape(SEED_TEXT) in text  # shown indented, as the editor shows documents
    assert 'aria-invalid="true"' not in text
    assert '<input type="hidden" name="name" value="Kept">' in text
    again = owner_client.post(
        URL, {"step": "document", "document": SEED_TEXT, "name": "Kept", "description": "d"}
    )
    assert 'value="Kept"' in again.text and re.search(r">\s*d</textarea>", again.text)


def test_back_with_a_changed_document_shows_its_errors_in_the_editor(owner_client):
    back = owner_client.post(URL, {"step": "edit", "document": PERMIT})
    assert back.status_code == 200
    assert PERMIT_ERROR in back.text and 'data-testid="document-errors"' in back.text


def test_a_ram_user_without_create_policy_gets_403_at_each_step(sign_in, ram_user):
    client = sign_in(ram_user)
    for data in ({"step": "document", "document": SEED_TEXT}, {"step": "edit"}, {"name": "X"}):
        assert client.post(URL, data).status_code == 403
    assert not Policy.objects.filter(name="X").exists()
