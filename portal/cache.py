"""The cache every process shares when Redis is there, and the logged-in user read from it.

Redis down must not take the pages with it, since the database still holds everything: a
read that fails is a miss, a write that fails is skipped (the user's entry lives a minute,
so a drop that failed is short-lived). Sessions stay in the database: a logout must not be
undone by a cache that missed it.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import auth
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver
from django.utils.crypto import constant_time_compare
from django.utils.functional import SimpleLazyObject
from redis.exceptions import RedisError

from portal import roles

logger = logging.getLogger(__name__)
MISSING = object()
USER_SECONDS = 60


class TolerantRedisCache(RedisCache):
    """Django's Redis cache, with a failing Redis read as a miss and a write as skipped."""

    def get(self, key, default=None, version=None):
        return self._tolerated(super().get, default, key, default, version)

    def get_many(self, keys, version=None):
        return self._tolerated(super().get_many, {}, keys, version)

    def set(self, key, value, timeout=MISSING, version=None):
        timeout = self.default_timeout if timeout is MISSING else timeout
        return self._tolerated(super().set, None, key, value, timeout, version)

    def add(self, key, value, timeout=MISSING, version=None):
        timeout = self.default_timeout if timeout is MISSING else timeout
        return self._tolerated(super().add, False, key, value, timeout, version)

    def delete(self, key, version=None):
        return self._tolerated(super().delete, False, key, version)

    def has_key(self, key, version=None):
        return self._tolerated(super().has_key, False, key, version)

    def _tolerated(self, operation, fallback, *args):
        try:
            return operation(*args)
        except RedisError as error:
            logger.warning("cache unavailable (%s): read from the database", type(error).__name__)
            return fallback


def user_key(user_id) -> str:
    return f"portal:user:{user_id}"


class CachedUserMiddleware(AuthenticationMiddleware):
    """Django's AuthenticationMiddleware, with the logged-in user and its roles read from the
    shared cache: two queries fewer on every request. Sessions, backends and the session's
    hash check are Django's own; the receivers below drop the entry on any change."""

    def process_request(self, request) -> None:
        super().process_request(request)
        if settings.SHARED_CACHE:  # a process's own memory would miss another's changes
            request.user = SimpleLazyObject(lambda: _user_of(request))


def _user_of(request):
    if not hasattr(request, "_cached_user"):
        user_id = request.session.get(SESSION_KEY)
        cached = cache.get(user_key(user_id)) if user_id else None
        if cached is not None and _still_signed_in(request, cached):
            request._cached_user = cached
        else:
            request._cached_user = user = auth.get_user(request)
            if user.is_authenticated:
                roles.roles_of(user)  # fetched now, so that the cached copy carries them
                cache.set(user_key(user.pk), user, USER_SECONDS)
    return request._cached_user


def _still_signed_in(request, user) -> bool:
    """What auth.get_user checks of a session: its backend, its hash, the user active."""
    session = request.session
    if session.get(BACKEND_SESSION_KEY) not in settings.AUTHENTICATION_BACKENDS:
        return False
    session_hash = session.get(HASH_SESSION_KEY) or ""
    return user.is_active and constant_time_compare(session_hash, user.get_session_auth_hash())


def forget_user(user_id) -> None:
    """Now, and again once the change commits: a request between the two would otherwise
    cache the row as it was."""
    key = user_key(user_id)
    cache.delete(key)
    transaction.on_commit(lambda: cache.delete(key))


@receiver(post_save, sender=get_user_model(), dispatch_uid="portal.cache.user_saved")
@receiver(post_delete, sender=get_user_model(), dispatch_uid="portal.cache.user_deleted")
def _user_changed(sender, instance, **kwargs) -> None:
    forget_user(instance.pk)


@receiver(m2m_changed, sender=get_user_model().groups.through, dispatch_uid="portal.cache.roles")
def _roles_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    if not action.startswith("post_") and action != "pre_clear":
        return
    if not reverse:
        forget_user(instance.pk)
    elif action == "pre_clear":
        _forget_members(instance)
    else:
        for user_id in pk_set or ():
            forget_user(user_id)


@receiver(post_save, sender=Group, dispatch_uid="portal.cache.group_renamed")
@receiver(pre_delete, sender=Group, dispatch_uid="portal.cache.group_deleted")
def _group_changed(sender, instance, **kwargs) -> None:
    # A role renamed or removed changes what each of its members may do.
    _forget_members(instance)


def _forget_members(group) -> None:
    if group.pk is not None:
        for user_id in group.user_set.values_list("pk", flat=True):
            forget_user(user_id)
