"""Trigram indexes for the admin's search over arms_sync_armscontact (PostgreSQL only; see core.trigram)."""

from django.db import migrations

from core.trigram import trigram_indexes


class Migration(migrations.Migration):
    dependencies = [("arms_sync", "0005_resend_budget")]

    operations = [trigram_indexes("arms_sync_armscontact", ["name", "phone", "email", "contact_id"])]
