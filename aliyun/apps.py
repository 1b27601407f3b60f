from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AliyunConfig(AppConfig):
    name = "aliyun"
    verbose_name = _("Cloud connection")

    def ready(self) -> None:
        import aliyun.checks  # noqa: F401 (registers the deploy check on import)
        from aliyun import metrics
        from aliyun.port import CloudArms
        from aliyun.ram_writes import CloudRam
        from arms_sync import cloud
        from ram_directory import cloud as ram_cloud

        cloud.register(CloudArms())
        ram_cloud.register(CloudRam())
        # ARMS pushes pending and failed, on /metrics.
        metrics.register()
