"""A loopback fake of Alibaba Cloud's OpenAPI (RAM 2015-05-01 and ARMS 2019-08-08).

Plain Python (no Django), for the tests, the benchmark and for trying the cloud connection
without an Alibaba Cloud account (``python -m aliyun.fake``). See server.FakeCloud.
"""

from .server import ARMS_VERSION, RAM_VERSION, FakeCloud

__all__ = ["ARMS_VERSION", "RAM_VERSION", "FakeCloud"]
