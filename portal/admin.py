from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import User

from portal.models import Profile, Team, WorkerHeartbeat


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    fields = ["team", "attuid"]


# What a person may do in the admin itself: only a superuser gives or takes these away.
PRIVILEGE_FIELDS = ("is_superuser", "is_staff", "groups", "user_permissions")


class PortalUserAdmin(UserAdmin):
    """Ops manage people (names, email, active, password, team); superusers manage privileges."""

    inlines = [ProfileInline]
    list_display = ["username", "get_full_name", "team", "roles", "is_active", "last_login"]
    list_filter = ["groups", "profile__team", "is_active", "is_staff"]
    list_select_related = ["profile__team"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    def get_readonly_fields(self, request, obj=None):
        fields = tuple(super().get_readonly_fields(request, obj))
        return fields if request.user.is_superuser else (*fields, *PRIVILEGE_FIELDS)

    def has_change_permission(self, request, obj=None) -> bool:
        # Setting a superuser's password or email would be a way to become one.
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    @admin.display(description="Team", ordering="profile__team__name")
    def team(self, user: User) -> str:
        profile = getattr(user, "profile", None)
        return str(profile.team) if profile and profile.team else "—"

    @admin.display(description="Roles")
    def roles(self, user: User) -> str:
        return ", ".join(group.name for group in user.groups.all()) or "—"


admin.site.unregister(User)
admin.site.register(User, PortalUserAdmin)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(admin.ModelAdmin):
    list_display = ["name", "seen_at"]

    def has_add_permission(self, request) -> bool:
        return False
