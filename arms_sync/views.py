from django.shortcuts import render

from ram_directory.access import console_view


@console_view
def contact_list(request):
    return render(request, "placeholder.html", {"title": "ARMS contacts"})


@console_view
def group_list(request):
    return render(request, "placeholder.html", {"title": "Contact groups"})


@console_view
def policy_list(request):
    return render(request, "placeholder.html", {"title": "Notification policies"})


@console_view
def merge_contacts(request):
    return render(request, "placeholder.html", {"title": "Merge Contacts"})
