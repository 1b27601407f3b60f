from django.shortcuts import render

from ram_directory.access import console_view


@console_view
def contact_list(request):
    return render(request, "placeholder.html", {"title": "Contact Management"})
