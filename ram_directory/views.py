"""The RAM console pages: Users, a user's Permission Management, Policies (rules §1, §2).

Thin views: the selectors resolve what the principal may see (404 for another account's ID) and
may do (403 naming the missing permission); the forms parse; the services write.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_http_methods

from ram_directory import selectors, services
from ram_directory.access import console_view
from ram_directory.forms import (
    AddAuthorizationForm,
    PolicyCreateForm,
    PolicyDocumentForm,
    PolicyEditForm,
)
from ram_directory.models import Policy, RamUser
from ram_directory.policy import document_text

ATTACHED = gettext_noop("Authorization added: {names}.")
DETACHED = gettext_noop("Removed {policy} from {user}.")
POLICY_CREATED = gettext_noop("Policy {name} created.")
POLICY_UPDATED = gettext_noop("Policy {name} updated.")
POLICY_DELETED = gettext_noop("Policy {name} deleted.")


def ram_view(view):
    """A console page whose 403 is a page that says which permission is missing."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as exc:
            missing = exc if isinstance(exc, selectors.RamPermissionDenied) else None
            return render(
                request,
                "ram_directory/forbidden.html",
                {"message": str(exc), "missing": missing},
                status=403,
            )

    return wrapper


def _is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


# --- users ---------------------------------------------------------------------------------


@ram_view
@console_view
def user_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    users = selectors.users_for_list(request.principal, query=query)
    return render(request, "ram_directory/user_list.html", {"users": users, "query": query})


def _user_detail_context(request: HttpRequest, ram_user: RamUser) -> dict:
    principal = request.principal
    return {
        "ram_user": ram_user,
        "attachments": list(selectors.personal_permissions(ram_user)),
        "can_attach": selectors.can_attach(principal, ram_user),
        "can_detach": selectors.can_detach(principal, ram_user),
    }


@ram_view
@console_view
def user_detail(request: HttpRequest, user_id: str) -> HttpResponse:
    ram_user = selectors.user_for_view(request.principal, user_id)
    context = _user_detail_context(request, ram_user)
    context["tab"] = "permissions" if request.GET.get("tab") == "permissions" else "basic"
    return render(request, "ram_directory/user_detail.html", context)


def _permissions_changed(request: HttpRequest, ram_user: RamUser, message: str) -> HttpResponse:
    """After attach/detach: htmx swaps the Personal Permissions list and closes the dialog."""
    request.principal.forget_permissions()
    if _is_htmx(request):
        response = render(
            request,
            "ram_directory/user_detail.html#personal_permissions",
            {**_user_detail_context(request, ram_user), "notice": message},
        )
        response["HX-Retarget"] = "#personal-permissions"
        response["HX-Reswap"] = "outerHTML"
        response["HX-Trigger"] = "closeModal"
        return response
    messages.success(request, message)
    return redirect(reverse("ram:user_detail", args=[ram_user.user_id]) + "?tab=permissions")


@ram_view
@console_view
@require_http_methods(["GET", "POST"])
def user_authorize(request: HttpRequest, user_id: str) -> HttpResponse:
    """Add Authorization: a side panel (htmx, into #modal-host) or a plain page."""
    ram_user = selectors.user_for_attach(request.principal, user_id)
    if request.method == "POST":
        form = AddAuthorizationForm(request.POST, ram_user=ram_user)
        if form.is_valid():
            try:
                services.attach_policies(
                    ram_user=ram_user,
                    policies=form.cleaned_data["policies"],
                    actor=request.principal,
                )
            except ValidationError as exc:
                form.add_error("policies", exc)
            else:
                names = ", ".join(p.name for p in form.cleaned_data["policies"])
                return _permissions_changed(request, ram_user, _(ATTACHED).format(names=names))
    else:
        # Unbound: the type filter alone is not a submission (no "check a policy" error).
        form = AddAuthorizationForm(ram_user=ram_user, initial={"type": request.GET.get("type")})
    # Opened from a policy's page: that policy comes checked.
    checked = (
        set(request.POST.getlist("policies"))
        if request.method == "POST"
        else {request.GET.get("policy", "")}
    )
    chosen_type = form.chosen_type()
    context = {
        "ram_user": ram_user,
        "form": form,
        "chosen_type": chosen_type,
        "choices": selectors.authorizable_policies(
            request.principal, ram_user, policy_type=chosen_type
        ),
        "checked": checked,
    }
    template = "ram_directory/user_authorize.html"
    status = 422 if request.method == "POST" else 200
    if _is_htmx(request):
        # The form re-renders itself in the panel (type filter, form errors); the button opens
        # the side panel.
        template += "#form" if request.htmx.target == "authorize-panel" else "#panel"
        context["in_dialog"] = context["in_panel"] = True
    return render(request, template, context, status=status)


@ram_view
@console_view
@require_http_methods(["GET", "POST"])
def user_detach(request: HttpRequest, user_id: str, policy_name: str) -> HttpResponse:
    """Remove a policy from Personal Permissions: confirm (dialog or page), then POST."""
    attachment = selectors.attachment_for_detach(request.principal, user_id, policy_name)
    ram_user, policy = attachment.ram_user, attachment.policy
    if request.method == "POST":
        services.detach_policy(ram_user=ram_user, policy=policy, actor=request.principal)
        message = _(DETACHED).format(policy=policy.name, user=ram_user.user_name)
        return _permissions_changed(request, ram_user, message)
    template = "ram_directory/user_detach.html"
    if _is_htmx(request):
        template += "#dialog"
    return render(request, template, {"ram_user": ram_user, "policy": policy})


# --- policies ------------------------------------------------------------------------------


@ram_view
@console_view
def policy_list(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")
    policy_type = request.GET.get("type", "")
    policies = selectors.policies_for_list(request.principal, query=query, policy_type=policy_type)
    return render(
        request,
        "ram_directory/policy_list.html",
        {
            "policies": policies,
            "query": query,
            "policy_type": policy_type,
            "type_choices": Policy.PolicyType.choices,
            "can_create": selectors.can_create_policy(request.principal),
        },
    )


@ram_view
@console_view
def policy_detail(request: HttpRequest, name: str) -> HttpResponse:
    policy = selectors.policy_for_view(request.principal, name)
    return render(
        request,
        "ram_directory/policy_detail.html",
        {
            "policy": policy,
            "document_text": document_text(policy.document),
            "attachments": list(selectors.policy_users(policy)),
            "users_to_authorize": selectors.users_to_authorize(request.principal, policy),
            **selectors.policy_actions(request.principal, policy),
        },
    )


@ram_view
@console_view
@require_http_methods(["GET"])
def policy_authorize(request: HttpRequest, name: str) -> HttpResponse:
    """Add Authorization from the policy's page: the chosen user's Add Authorization panel (a
    plain page here) with this policy checked. 404 for a policy or user of another account."""
    policy = selectors.policy_for_view(request.principal, name)
    ram_user = selectors.user_for_attach(request.principal, request.GET.get("user", ""))
    query = urlencode({"type": policy.policy_type, "policy": policy.name})
    return redirect(f"{reverse('ram:user_authorize', args=[ram_user.user_id])}?{query}")


def _refused_by_service(form: forms.Form, save: Callable[[dict[str, Any]], Policy]):
    """`save(cleaned_data)` calls the service; its refusal becomes a form error (on the field it
    names, else on the document) and None is returned."""
    try:
        return save(form.cleaned_data)
    except ValidationError as exc:
        form.add_error(None if hasattr(exc, "error_dict") else "document", exc)
        return None


def _policy_saved(request: HttpRequest, policy: Policy, done: str) -> HttpResponse:
    """Success: a message and the policy's page (htmx: the browser goes there)."""
    messages.success(request, _(done).format(name=policy.name))
    url = reverse("ram:policy_detail", args=[policy.name])
    if _is_htmx(request):
        return HttpResponse(headers={"HX-Redirect": url})
    return redirect(url)


def _script_editor(
    request: HttpRequest,
    form: forms.Form,
    save: Callable[[dict[str, Any]], Policy],
    *,
    done: str,
    **context: Any,
) -> HttpResponse:
    """The Script Editor's page and POST of a policy's edit (one step): its refusal, the form's
    or the service's, is a form error (nothing saved, status 422), success a message and the
    policy's page."""
    if request.method == "POST" and form.is_valid():
        policy = _refused_by_service(form, save)
        if policy is not None:
            return _policy_saved(request, policy, done)
    status = 422 if request.method == "POST" else 200
    return render(
        request, "ram_directory/policy_form.html", {"form": form, **context}, status=status
    )


# Create Policy's steps, named by the `step` its buttons post. Any other POST is the last step.
DOCUMENT_STEP = "document"  # the Script Editor's Confirm
BACK_STEP = "edit"  # from the page of step 2 back to the Script Editor (no JavaScript)
# What the Script Editor carries through, hidden, when the page of step 2 sent it back.
CARRIED = ("name", "description")


def _create_editor(request: HttpRequest, form: forms.Form, *, status: int) -> HttpResponse:
    """Create Policy, step 1: the Script Editor. Its htmx form targets #modal-host (where the
    Create Policy dialog opens); a refused document re-renders the editor in place instead."""
    carried = {name: request.POST.get(name, "") for name in CARRIED}
    context = {"form": form, "carried": carried}
    if not _is_htmx(request):
        return render(request, "ram_directory/policy_form.html", context, status=status)
    response = render(request, "ram_directory/policy_form.html#editor", context, status=status)
    response["HX-Retarget"] = "#policy-editor"
    response["HX-Reswap"] = "outerHTML"
    return response


def _create_details(
    request: HttpRequest, form: PolicyCreateForm, *, opening: bool, status: int
) -> HttpResponse:
    """Create Policy, step 2: Name and Description, as the Create Policy dialog (htmx: opened
    by the Script Editor's Confirm, its form re-rendered in place when refused) or a plain
    page showing the document it is about to create."""
    document = form.cleaned_data.get("document") if form.is_bound else None
    if document is None:
        document = form["document"].value()
    context = {
        "form": form,
        "in_modal": _is_htmx(request),
        "document_text": document_text(document) if isinstance(document, dict) else document,
    }
    template = "ram_directory/policy_create.html"
    if _is_htmx(request):
        template += "#dialog" if opening else "#form"
    return render(request, template, context, status=status)


@ram_view
@console_view
@require_http_methods(["GET", "POST"])
def policy_create(request: HttpRequest) -> HttpResponse:
    """Create Policy as the seed's Step 1.1 has it: the Script Editor, whose Confirm validates
    the document (errors shown in the editor), then the Create Policy dialog asking Name and
    Description, whose Confirm creates the policy. The document goes to step 2 in a hidden
    field and is validated again on the last post; without JavaScript step 2 is a plain page."""
    selectors.ensure_may_create_policy(request.principal)
    if request.method == "GET":
        return _create_editor(request, PolicyDocumentForm(), status=200)
    step = request.POST.get("step")
    if step == BACK_STEP:
        back = PolicyDocumentForm(request.POST)
        if back.is_valid():  # shown indented, as the editor shows a document, without errors
            back = PolicyDocumentForm(initial={"document": back.cleaned_data["document"]})
        return _create_editor(request, back, status=200)
    if step == DOCUMENT_STEP:
        editor = PolicyDocumentForm(request.POST)
        if not editor.is_valid():
            return _create_editor(request, editor, status=422)
        initial = {"document": editor.cleaned_data["document"]}
        initial.update({name: request.POST[name] for name in CARRIED if request.POST.get(name)})
        form = PolicyCreateForm(initial=initial)
        return _create_details(request, form, opening=True, status=200)

    form = PolicyCreateForm(request.POST)
    if form.is_valid():
        policy = _refused_by_service(
            form,
            lambda data: services.create_policy(
                account=request.principal.account,
                name=data["name"],
                description=data["description"],
                document=data["document"],
                actor=request.principal,
            ),
        )
        if policy is not None:
            return _policy_saved(request, policy, POLICY_CREATED)
    return _create_details(request, form, opening=False, status=422)


def _custom_policy_for_change(request: HttpRequest, name: str, action: str) -> Policy:
    """The policy to edit or delete: 404 outside the account, 403 without `action` or when
    it is a system policy (rules §2: read-only)."""
    policy = selectors.policy_for_view(request.principal, name, action)
    if policy.is_system:
        raise PermissionDenied(_(services.SYSTEM_POLICY_READ_ONLY))
    return policy


@ram_view
@console_view
@require_http_methods(["GET", "POST"])
def policy_edit(request: HttpRequest, name: str) -> HttpResponse:
    policy = _custom_policy_for_change(request, name, selectors.UPDATE_POLICY)
    initial = {"document": policy.document, "description": policy.description}

    def save(data: dict[str, Any]) -> Policy:
        return services.update_policy(
            policy=policy,
            document=data["document"],
            description=data["description"],
            actor=request.principal,
        )

    form = PolicyEditForm(request.POST or None, initial=initial)
    return _script_editor(request, form, save, done=POLICY_UPDATED, policy=policy)


@ram_view
@console_view
@require_http_methods(["GET", "POST"])
def policy_delete(request: HttpRequest, name: str) -> HttpResponse:
    policy = _custom_policy_for_change(request, name, selectors.DELETE_POLICY)
    error = None
    if request.method == "POST":
        try:
            services.delete_policy(policy=policy, actor=request.principal)
        except ValidationError as exc:
            error = " ".join(exc.messages)
        else:
            messages.success(request, _(POLICY_DELETED).format(name=name))
            return redirect("ram:policy_list")
    attached = policy.attachments.count()
    return render(
        request,
        "ram_directory/policy_delete.html",
        {"policy": policy, "attached": attached, "error": error},
        status=422 if error else 200,
    )
