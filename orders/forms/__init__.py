"""The care order form, in parts: the order, change requests, their rows, and the whole."""

from orders.forms.care_order import CareOrderForm
from orders.forms.change_request import ChangeRequestForm
from orders.forms.order import OrderForm
from orders.forms.rows import ItemForm, LabelForm

__all__ = ["CareOrderForm", "ChangeRequestForm", "ItemForm", "LabelForm", "OrderForm"]
