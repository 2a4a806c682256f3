from django.http import HttpRequest, HttpResponse


def order_list(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError


def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    raise NotImplementedError


def cancel_order(request: HttpRequest, pk: int) -> HttpResponse:
    raise NotImplementedError


def carrier_notification(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError
