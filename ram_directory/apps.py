from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RamDirectoryConfig(AppConfig):
    name = "ram_directory"
    verbose_name = _("RAM directory")
