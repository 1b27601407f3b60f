"""A loopback fake of Alibaba Cloud's OpenAPI: RAM (2015-05-01), ARMS Alert Management
(2019-08-08) and STS (2015-04-01: AssumeRole, GetCallerIdentity; sts.py) on one port, for
the tests, the benchmark and for trying the cloud connection
without an Alibaba Cloud account (``python -m aliyun.fake``, ``make cloud-fake``).

Plain Python, no Django. The real SDK clients talk to it::

    fake = FakeCloud(access_keys={"LTAI5t...": "secret"}, account_id="1234567890123456")
    fake.start()  # 127.0.0.1, a free port (or port=N); also a context manager; close() ends
    Config(access_key_id=..., access_key_secret=..., endpoint=fake.endpoint, protocol="http",
           region_id="cn-hangzhou")

The products are told apart by the ``x-acs-version`` header, the action by
``x-acs-action``; parameters are read from the query and the form body alike. An RPC-style
request (STS AssumeRole from alibabacloud-credentials: ``Action``, ``Version`` and the HMAC-SHA1
``Signature`` in the query) is checked by signing.verify_rpc. The port answers TLS as well
(tls.py; the credentials library reaches STS over HTTPS only): trust ``ca_file``. A temporary
key from AssumeRole works only with its ``x-acs-security-token`` and until it expires.

Every request is checked as the gateway checks it (signing.py): the ACS3-HMAC-SHA256
signature over the canonical request, ``x-acs-content-sha256`` against the body, every
``x-acs-*`` header and ``host`` signed, ``x-acs-date`` within 15 minutes, the nonce never seen
before. Errors are the real API's JSON (``RequestId``, ``HostId``, ``Code``, ``Message``):

- 400 ``SignatureDoesNotMatch`` (wrong secret, a changed query, header or body),
  400 ``IncompleteSignature``, 400 ``SignatureNonceUsed``, 400 ``InvalidTimeStamp.Expired``,
  404 ``InvalidAccessKeyId.NotFound``, 404 ``InvalidAction.NotFound``, 400 ``InvalidVersion``;
- faults switched on by a test: ``throttle(n, retry_after_ms)`` 400 ``Throttling.User`` with the
  ``x-acs-retry-after`` header (the SDK raises ThrottlingException), ``fail(n, status)`` 503
  ``ServiceUnavailable`` / 500 ``InternalError``, ``lose_answers(n)`` (the work is done, the
  connection closed without an answer), ``go_down()`` / ``come_back()`` (connection refused,
  then the same port), ``deny(key, "ram:ListUsers", ...)`` 403 ``NoPermission`` (RAM) /
  403 ``Forbidden.RAM`` (ARMS, the gateway's code for a RAM refusal), ``latency`` (seconds
  before every answer); each may be limited to some actions (``actions=[...]``);
- RAM's own codes (ram.py) and the codes chosen where ARMS documents none (arms.py).

``calls`` (a Counter by action) and ``requests`` ((action, params) in order) record every call
answered, refused ones included; ``internal_errors`` holds the fake's own bugs (answered 500).
State is in memory under one lock, every collection bounded; nothing is logged but the action
and the status of each call.
"""

from .server import ARMS_VERSION, RAM_VERSION, FakeCloud

__all__ = ["ARMS_VERSION", "RAM_VERSION", "FakeCloud"]
