"""Trigram indexes for the admin's search over contacts_contact (PostgreSQL only; see core.trigram)."""

from django.db import migrations

from core.trigram import trigram_indexes


class Migration(migrations.Migration):
    dependencies = [("contacts", "0003_encrypt_robot_secrets")]

    operations = [trigram_indexes("contacts_contact", ["phone", "mailbox"])]
