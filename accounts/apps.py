from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Customer accounts"

    def ready(self) -> None:
        from accounts import (
            bulk_submissions,  # noqa: F401 - registers the bulk_create handler
            submissions,  # noqa: F401 - registers the account_create handler
        )
