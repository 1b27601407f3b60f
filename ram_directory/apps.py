from django.apps import AppConfig


class RamDirectoryConfig(AppConfig):
    name = "ram_directory"
    verbose_name = "RAM directory"
