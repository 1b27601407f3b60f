"""The Cloud Connection form: parses; aliyun.services checks and saves."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from aliyun.models import DEFAULT_REGION, CloudConnection


def optional_address(label, help_text) -> forms.CharField:
    """An endpoint or proxy the connection may name; left blank, the default is used."""
    return forms.CharField(label=label, max_length=255, required=False, help_text=help_text)


class ConnectionForm(forms.Form):
    access_key_id = forms.CharField(label=_("AccessKey ID"), max_length=128)
    # Never rendered back (a saved secret is not shown, even masked, in an input): left blank
    # on a saved connection, the stored one is kept.
    access_key_secret = forms.CharField(
        label=_("AccessKey secret"),
        max_length=256,
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )
    role_arn = forms.CharField(
        label=_("RAM role ARN"),
        max_length=256,
        required=False,
        help_text=_("Optional: a role the AccessKey assumes (acs:ram::<account ID>:role/<name>)."),
    )
    region = forms.CharField(label=_("Region"), max_length=64, initial=DEFAULT_REGION)
    ram_endpoint = optional_address(
        _("RAM endpoint"),
        _("Optional host[:port], e.g. a VPC endpoint. Default: ram.aliyuncs.com."),
    )
    arms_endpoint = optional_address(
        _("ARMS endpoint"), _("Optional host[:port]. Default: arms.<region>.aliyuncs.com.")
    )
    sts_endpoint = optional_address(
        _("STS endpoint"),
        _(
            "Optional host[:port] for STS (the RAM role and the account check), always over "
            "HTTPS. Default: sts.aliyuncs.com."
        ),
    )
    protocol = forms.ChoiceField(
        label=_("Protocol"), choices=CloudConnection.Protocol.choices, initial="https"
    )
    proxy = optional_address(
        _("Outbound proxy"),
        _(
            "Optional, e.g. http://proxy.example.com:3128. Proxy variables of the "
            "environment are never used."
        ),
    )

    def __init__(self, *args, connection: CloudConnection | None = None, **kwargs):
        if connection is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                name: getattr(connection, name)
                for name in self.base_fields
                if name != "access_key_secret"
            }
        super().__init__(*args, **kwargs)
        self.connection = connection
        for field in self.fields.values():
            field.widget.attrs.setdefault(
                "class", "form-select" if isinstance(field, forms.ChoiceField) else "form-control"
            )
        if connection is not None:
            self.fields["access_key_secret"].help_text = _(
                "Saved (********). Leave blank to keep it."
            )
