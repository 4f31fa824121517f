"""Demo users, one per role, all with the password ``wms-demo``. Idempotent."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from wms import roles

DEMO_PASSWORD = "wms-demo"  # noqa: S105 - documented demo credential, created only by wms_demo

DEMO_USERS = [
    # username, role group, is_staff (may open the admin), is_superuser
    ("admin", roles.ADMINISTRATOR, True, True),
    ("manager", roles.WAREHOUSE_MANAGER, True, False),
    ("qc", roles.QC_INSPECTOR, True, False),
    ("staff", roles.WAREHOUSE_STAFF, True, False),
    ("store", roles.STORE_MANAGER, False, False),
    ("channel", roles.CHANNEL_OPERATOR, True, False),
]


def load() -> list[str]:
    user_model = get_user_model()
    created = []
    for username, group_name, is_staff, is_superuser in DEMO_USERS:
        user, was_created = user_model.objects.get_or_create(
            username=username,
            defaults={
                "is_staff": is_staff,
                "is_superuser": is_superuser,
                "email": f"{username}@example.com",
            },
        )
        if was_created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            created.append(username)
        user.groups.add(Group.objects.get(name=group_name))
    return [f"users created: {len(created)}"]
