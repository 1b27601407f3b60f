"""The RAM policy the connection's AccessKey needs (the page and the README show it)."""

from __future__ import annotations

REQUIRED_POLICY = {
    "Version": "1",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": [
                "ram:ListUsers",
                "ram:GetUser",
                "ram:ListGroupsForUser",
                "ram:ListPoliciesForUser",
                "ram:ListPoliciesForGroup",
                "ram:ListPolicies",
                "ram:GetPolicy",
                "ram:GetPolicyVersion",
                "ram:CreatePolicy",
                "ram:AttachPolicyToUser",
                "ram:DetachPolicyFromUser",
            ],
            "Resource": "*",
        },
        {
            "Effect": "Allow",
            "Action": [
                "arms:DescribeContacts",
                "arms:CreateOrUpdateContact",
                "arms:DeleteContact",
                "arms:DescribeContactGroups",
                "arms:CreateOrUpdateContactGroup",
                "arms:DeleteContactGroup",
                "arms:ListNotificationPolicies",
                "arms:CreateOrUpdateNotificationPolicy",
                "arms:DeleteNotificationPolicy",
                "arms:DescribeIMRobots",
                "arms:CreateOrUpdateIMRobot",
            ],
            "Resource": "*",
        },
    ],
}
