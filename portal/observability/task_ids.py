"""A request's id travels with the tasks it enqueues, so a worker's lines name the request.

The id rides in the task message's headers (set on publish); the worker adopts it, with the
task's own id, for as long as the task runs.
"""

from celery.signals import before_task_publish, task_postrun, task_prerun

from portal.observability import ids

HEADER = "portal_request_id"
# Per running task: the tokens that put the context back as it was (eager tasks run inside a
# request, whose id must survive them).
_tokens: dict[str, tuple] = {}


@before_task_publish.connect
def stamp_request_id(headers: dict | None = None, **kwargs) -> None:
    current = ids.request_id.get()
    if current and headers is not None:
        headers.setdefault(HEADER, current)


@task_prerun.connect
def adopt_ids(task_id: str = "", task=None, **kwargs) -> None:
    carried = getattr(task.request, HEADER, None) if task is not None else None
    _tokens[task_id] = (
        ids.request_id.set(carried or ids.request_id.get()),
        ids.task_id.set(task_id or ""),
    )


@task_postrun.connect
def drop_ids(task_id: str = "", **kwargs) -> None:
    tokens = _tokens.pop(task_id, None)
    if tokens is not None:
        request_token, task_token = tokens
        ids.task_id.reset(task_token)
        ids.request_id.reset(request_token)
