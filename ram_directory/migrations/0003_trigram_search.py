"""Trigram indexes for the admin's search over ram_directory_ramuser (PostgreSQL only; see core.trigram)."""

from django.db import migrations

from core.trigram import trigram_indexes


class Migration(migrations.Migration):
    dependencies = [("ram_directory", "0002_permission_requests")]

    operations = [trigram_indexes("ram_directory_ramuser", ["user_name", "display_name", "user_id", "email", "mobile_phone"])]
