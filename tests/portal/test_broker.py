"""The filesystem broker never shows a worker a message that is still being written."""

import os

from portal.celery import app


def test_messages_appear_whole_or_not_at_all(tmp_path, monkeypatch):
    folder = tmp_path / "queue"
    folder.mkdir()
    options = {"data_folder_in": str(folder), "data_folder_out": str(folder)}
    seen_partial = []
    real_replace = os.replace

    def replace(source, target):
        # At the moment before the rename, a reader lists the folder: nothing is there for it.
        seen_partial.extend(name for name in os.listdir(folder) if name.endswith(".celery.msg"))
        return real_replace(source, target)

    monkeypatch.setattr("portal.broker.os.replace", replace)
    with app.connection_for_write("filesystem://", transport_options=options) as connection:
        assert type(connection.transport).__module__ == "portal.broker"
        channel = connection.default_channel
        channel._put("celery", {"body": "x" * 10_000})
        assert seen_partial == []
        [name] = os.listdir(folder)
        assert name.endswith(".celery.msg")
        assert channel._get("celery") == {"body": "x" * 10_000}
