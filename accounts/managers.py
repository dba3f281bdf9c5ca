from django.contrib.auth.base_user import BaseUserManager
from django.contrib.auth.password_validation import validate_password
from django.db import transaction

from accounts.roles import takes_a_seat
from billing import limits
from tenants.selectors import current_tenant


class UserManager(BaseUserManager):
    """
    Manager for a user model whose login is the e-mail address.

    Every user is made by ``user_create`` (accounts.services.user_create
    calls it), so that createsuperuser run in a tenant's schema (django-tenants'
    tenant_command or create_tenant_superuser) meets the same checks as the
    web UI and the API, the plan's user limit included. The rule lives here,
    not in accounts.services, because the manager is what createsuperuser
    calls and the models (which import the manager) are below the services.
    """

    use_in_migrations = True

    def user_create(self, *, email, password, full_name="", roles=(), **extra_fields):
        """
        Create a user in the current schema: a staff member of the current
        tenant, or a platform admin in the public schema. Counts against the
        plan's user limit unless the user's only role is Requester.
        """
        with transaction.atomic(using=self.db):
            user = self.model(email=email, full_name=full_name, **extra_fields)
            user.full_clean(exclude=["password"])
            if password is not None:
                validate_password(password, user)
            user.set_password(password)

            tenant = current_tenant()
            if not tenant.is_public and takes_a_seat(role.name for role in roles):
                limits.reserve(tenant, limits.Resource.USERS)
            user.save(using=self.db)
            if roles:
                user.groups.set(roles)
        return user

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("The e-mail address must be set.")
        return self.user_create(email=email, password=password, **extra_fields)

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if extra_fields.get("is_staff") is not True:
            raise ValueError("Superuser must have is_staff=True.")
        if extra_fields.get("is_superuser") is not True:
            raise ValueError("Superuser must have is_superuser=True.")
        return self._create_user(email, password, **extra_fields)

    def get_by_natural_key(self, username):
        # E-mail addresses are stored lower-cased; log-ins match case-insensitively.
        return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": username})
