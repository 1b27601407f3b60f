from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RamDirectoryConfig(AppConfig):
    name = "ram_directory"
    verbose_name = _("RAM directory")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from ram_directory import language

        user_logged_in.connect(language.signed_in, dispatch_uid="ram_directory.language")
