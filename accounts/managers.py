from django.contrib.auth.base_user import BaseUserManager


class UserManager(BaseUserManager):
    """Manager for a user model whose login is the e-mail address."""

    use_in_migrations = True

    # accounts.services.user_create, set by AccountsConfig.ready(): the service
    # imports the model, which imports this manager, so the manager is handed
    # the service rather than importing it.
    create_with = None

    def _create_user(self, email, password, **extra_fields):
        # Through the service, so that createsuperuser run in a tenant's schema
        # (django-tenants' tenant_command or create_tenant_superuser) meets the
        # same checks as the web UI and the API, the plan's user limit included.
        if not email:
            raise ValueError("The e-mail address must be set.")
        return type(self).create_with(email=email, password=password, **extra_fields)

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
