"""How a change request is laid out: the parts each type carries, and which are unfolded."""

from __future__ import annotations

from orders.forms.fields import CANCEL, ON_A_DATE, PIN_FIELD, RESUME, SUSPEND, UPDATE
from portal.upstream import order_body

CONTACT_PARTS = ("first_name", "last_name", "phone", "address_line1", "address_line2", "city")
CONTACT_PARTS += ("state", "zip")
CANCEL_FIELDS = ("cancellation_reason", "cancel_service_reason", "cancel_effective_when")
# The folded parts of an update (<details>), by the fields each holds.
SECTIONS = {
    "features": (
        "replace_duplicate_features",
        "replace_conflicting_features",
        "voicemail",
        PIN_FIELD,
    ),
    "billing": (
        *(f"billing_{name}" for name in (*CONTACT_PARTS, "attention_to")),
        "billing_address_indicator",
    ),
    "subscriber": tuple(f"subscriber_{name}" for name in CONTACT_PARTS),
    "device": ("imei", "iccid", "network_block"),
}
UPDATE_ONLY_FIELDS = tuple(name for names in SECTIONS.values() for name in names)


def holds(form, names: tuple[str, ...]) -> bool:
    """Whether any of the fields has a value or an error: such a part never hides."""
    errors = form.errors if form.is_bound else {}
    return any(name in errors or form[name].value() for name in names)


def groups(form, rows_held: bool) -> dict[str, str]:
    """CSS classes of the parts shown only for some choices, for browsers without :has()
    and so that a value or an error never hides: `is-current` / `is-shown`."""
    chosen = str(form["type"].value() or "")

    def classes(current: bool, held: bool) -> str:
        return " ".join(c for c, on in (("is-current", current), ("is-shown", held)) if on)

    return {
        "update": classes(chosen == UPDATE, rows_held or holds(form, UPDATE_ONLY_FIELDS)),
        "suspend": classes(chosen == SUSPEND, holds(form, ("suspend_reason",))),
        "resume": classes(chosen == RESUME, holds(form, ("resume_reason",))),
        "cancel": classes(chosen == CANCEL, holds(form, CANCEL_FIELDS)),
        "effective_on": classes(form["effective_when"].value() == ON_A_DATE, False),
        "cancel_effective_on": classes(form["cancel_effective_when"].value() == ON_A_DATE, False),
        "pin": classes(
            form["voicemail"].value() == order_body.RESET_WITH_PIN, holds(form, (PIN_FIELD,))
        ),
    }


def unfolded(form) -> dict[str, bool]:
    """The folded parts that open by themselves: those holding a value or an error."""
    opened = {name: holds(form, names) for name, names in SECTIONS.items()}
    if getattr(form, "pin_needs_reentry", False):
        opened["features"] = True
    return opened
