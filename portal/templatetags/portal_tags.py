import re

from django import template

from portal.upstream.redaction import mask_last4

register = template.Library()


@register.filter
def last4(value) -> str:
    """A phone, IMEI or ICCID as people may see it outside the form that takes it: •••• 6389."""
    masked = mask_last4(value)
    return f"•••• {masked[-4:]}" if len(masked) > 4 else masked


@register.filter
def in_words(name) -> str:
    """A carrier's name for a detail, as people read it: "deviceModel" becomes "Device model"."""
    boundaries = r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])|[_-]+"
    words = re.sub(boundaries, " ", str(name or "")).split()
    if not words:
        return ""
    text = " ".join(word if word.isupper() and len(word) > 1 else word.lower() for word in words)
    return text[0].upper() + text[1:]
