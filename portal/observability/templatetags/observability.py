from django import template
from django.utils.html import format_html

from portal.observability import ids

register = template.Library()


@register.simple_tag
def request_reference() -> str:
    """The request's id for a rep to quote to ops; nothing outside a request (no context needed:
    the 500 page is rendered without one)."""
    current = ids.request_id.get()
    if not current:
        return ""
    return format_html(
        '<p class="hint request-reference">Reference for ops: <code>{}</code> '
        "(quote it when you ask for help)</p>",
        current,
    )
