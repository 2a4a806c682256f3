from django.db import models

from portal import roles


class OwnedQuerySet(models.QuerySet):
    """Rows staff users created, and who may see them: the one rule every object view uses.

    Ops (and superusers) see all; a manager sees their team's; a rep sees only their own.
    """

    owner_field = "created_by"
    # False where reps have no business at all (bulk imports are for ops and managers).
    reps_see_their_own = True

    def for_user(self, user):
        if user.is_superuser or roles.is_ops(user):
            return self
        if roles.is_manager(user):
            team_id = getattr(getattr(user, "profile", None), "team_id", None)
            if team_id is None:
                return self.none()
            return self.filter(**{f"{self.owner_field}__profile__team_id": team_id})
        if not self.reps_see_their_own:
            return self.none()
        return self.filter(**{self.owner_field: user})
