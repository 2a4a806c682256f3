"""The cache every process shares when Redis is there: sessions and the logged-in user.

Redis down must not take the pages with it, since the database still holds everything: a
read that fails is a miss, a write that fails is skipped (the user's entry lives a minute,
so a missed drop is short-lived).
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete
from django.dispatch import receiver
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

    def _tolerated(self, operation, fallback, *args):
        try:
            return operation(*args)
        except RedisError as error:
            logger.warning("cache unavailable (%s): read from the database", type(error).__name__)
            return fallback


def user_key(user_id) -> str:
    return f"portal:user:{user_id}"


class CachedUserBackend(ModelBackend):
    """ModelBackend, with the logged-in user and its roles read from the shared cache: two
    queries fewer on every request. The receivers below drop the entry on any change to either."""

    def get_user(self, user_id):
        if not settings.SHARED_CACHE:  # a process's own memory would miss another's changes
            return super().get_user(user_id)
        cached = cache.get(user_key(user_id))
        if cached is not None:
            return cached if self.user_can_authenticate(cached) else None
        user = super().get_user(user_id)
        if user is not None:
            roles.roles_of(user)  # fetched now, so that the cached copy carries them
            cache.set(user_key(user_id), user, USER_SECONDS)
        return user


def forget_user(user_id) -> None:
    cache.delete(user_key(user_id))


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
