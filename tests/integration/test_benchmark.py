"""The benchmark command reports figures and leaves no trace (speed is designed:
docs/architecture.md)."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from contacts.models import Contact
from ram_directory.models import Account

pytestmark = pytest.mark.django_db


def test_benchmark_reports_figures_and_rolls_back():
    out = StringIO()
    call_command("benchmark", contacts=5, repeat=2, as_json=True, stdout=out)
    figures = json.loads(out.getvalue())
    assert figures["contacts"] == 5
    assert figures["merge_rows"] == 6  # five RAM users and the account itself
    assert figures["drift_after_merge"] == 0
    for page in ("contacts_list", "arms_contact_list", "arms_group_list", "ram_user_list"):
        assert figures[f"{page}_queries"] > 0
        assert figures[f"{page}_ms_median"] > 0
    assert not Account.objects.exists()
    assert not Contact.objects.exists()


def test_benchmark_refuses_more_contacts_than_the_limit():
    with pytest.raises(CommandError, match="between 1 and 100"):
        call_command("benchmark", contacts=101)
