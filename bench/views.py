"""The anchor of the benchmark: the least a Django view can do here (one trivial template)."""

from __future__ import annotations

from django.shortcuts import render


def bare(request):
    return render(request, "bench/bare.html", {"name": "bench"})
