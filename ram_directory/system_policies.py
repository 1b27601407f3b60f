"""The system policies every account holds (rules §2): their descriptions and documents.

Plain data, no Django: the cloud fake (aliyun/fake, plain Python) seeds its RAM with the same
ones the console stores in every account (ram_directory.services).
"""

from __future__ import annotations

from typing import Any

SYSTEM_POLICIES: dict[str, tuple[str, dict[str, Any]]] = {
    "AdministratorAccess": (
        "Provides full access to Alibaba Cloud services and resources.",
        {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]},
    ),
    "AliyunRAMFullAccess": (
        "Provides full access to Resource Access Management (RAM).",
        {"Version": "1", "Statement": [{"Effect": "Allow", "Action": "ram:*", "Resource": "*"}]},
    ),
    "AliyunRAMReadOnlyAccess": (
        "Provides read-only access to Resource Access Management (RAM).",
        {
            "Version": "1",
            "Statement": [
                {"Effect": "Allow", "Action": ["ram:Get*", "ram:List*"], "Resource": "*"}
            ],
        },
    ),
}
