# The care order form view arrives here (orders:new, orders:edit).
from django.http import HttpRequest, HttpResponse


def order_form(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    raise NotImplementedError
