"""Celery's filesystem broker, with each message written atomically.

kombu's filesystem transport writes a message in place; a worker polling the folder can take
the file before its bytes are there and crash on an empty message. Writing to a temporary
name and renaming makes a message appear whole or not at all.
"""

import os
import uuid
from time import monotonic

from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        # Not "<queue>.msg" after the first dot, so no reader takes it while it is written.
        partial = f"{final}.partial"
        try:
            with open(partial, "wb") as message:
                message.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise filesystem.ChannelError(f"Cannot add file {final!r} to directory") from exc


class Transport(filesystem.Transport):
    Channel = Channel
