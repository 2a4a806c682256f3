"""What a request may upload, decided before Django stores any of its body.

Two guards, because the body is parsed the first time anything reads request.POST (the CSRF
check does, before any view or login redirect):
- RequestBodyLimitMiddleware answers 413 to a body longer than the request may send, from its
  Content-Length, before anything reads it. A body without one (chunked) is read by Django as
  empty, so it cannot be larger than it says.
- UploadGate, first of FILE_UPLOAD_HANDLERS, stops the parse at the first file of a request
  without a login or over the limit, so no other handler writes it to memory or disk.
"""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest

# Room for the form around the file: the multipart headers, the CSRF token, the boundaries.
FORM_MARGIN_BYTES = 1024 * 1024


def content_length(request: HttpRequest) -> int:
    """The body's length as declared; 0 when absent or unreadable (Django then reads none)."""
    try:
        return max(0, int(request.META.get("CONTENT_LENGTH") or 0))
    except ValueError:
        return 0


def body_limit(request: HttpRequest) -> int | None:
    """The longest body this request may send: a bulk file and its form, with a login; without
    one, only form fields (DATA_UPLOAD_MAX_MEMORY_SIZE; None is no limit of ours)."""
    if _logged_in(request):
        return settings.BULK_IMPORT_MAX_BYTES + FORM_MARGIN_BYTES
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def _logged_in(request: HttpRequest) -> bool:
    # No user yet means the body is read before authentication: treated as anonymous.
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_authenticated)


class UploadGate(FileUploadHandler):
    """Stores nothing itself; stops the upload before the next handlers can store a file."""

    refused = False

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.refused = not _logged_in(self.request) or content_length > body_limit(self.request)

    def new_file(self, *args, **kwargs) -> None:
        if self.refused:
            # connection_reset: the rest of the body is not even read, let alone kept.
            raise StopUpload(connection_reset=True)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
