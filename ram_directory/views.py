from django.shortcuts import render

from ram_directory.access import console_view


@console_view
def user_list(request):
    return render(request, "placeholder.html", {"title": "Users"})


@console_view
def policy_list(request):
    return render(request, "placeholder.html", {"title": "Policies"})
