from django.conf import settings
from django.db import models


class Team(models.Model):
    """A sales team: managers see their team's work."""

    name = models.CharField(max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Profile(models.Model):
    """What the portal knows about a staff user beyond auth.User."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    # The carrier's user id for the rep, sent as `attuid` on account creation.
    attuid = models.CharField("ATTUID", max_length=20, blank=True)

    def __str__(self) -> str:
        return f"{self.user} ({self.team or 'no team'})"


class WorkerHeartbeat(models.Model):
    """Written by a periodic task on a worker: proof that beat and a worker are alive."""

    name = models.CharField(max_length=100, unique=True)
    seen_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.name} @ {self.seen_at:%Y-%m-%d %H:%M:%S}"
