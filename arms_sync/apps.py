from django.apps import AppConfig


class ArmsSyncConfig(AppConfig):
    name = "arms_sync"
    verbose_name = "ARMS"
