from django import template

from portal.upstream.redaction import mask_last4

register = template.Library()


@register.filter
def last4(value) -> str:
    """A phone, IMEI or ICCID as people may see it outside the form that takes it: •••• 6389."""
    masked = mask_last4(value)
    return f"•••• {masked[-4:]}" if len(masked) > 4 else masked
