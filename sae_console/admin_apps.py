"""`django.contrib.admin` with the project's admin site as `admin.site` (kept apart from
sae_console.admin_guards so that INSTALLED_APPS imports nothing of the admin itself)."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class ConsoleAdminConfig(AdminConfig):
    default_site = "sae_console.admin_guards.ConsoleAdminSite"
