from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_tenants.utils import tenant_context

from accounts.models import User
from accounts.roles import BuiltinRole
from accounts.services import roles_provision_defaults, user_create
from tenants.models import Tenant
from tenants.plans import PlanCode
from tenants.selectors import subdomain_is_held
from tenants.services import public_tenant_ensure, tenant_create, tenant_domain_for

DEMO_SUBDOMAIN = "acme"
DEMO_PASSWORD = "demo-pass-2024"  # noqa: S105 -- published in the README for the demo
DEMO_USERS = [
    ("admin@acme.example", "Ada Admin", BuiltinRole.ADMIN),
    ("manager@acme.example", "Max Manager", BuiltinRole.MANAGER),
    ("technician@acme.example", "Tess Technician", BuiltinRole.TECHNICIAN),
    ("requester@acme.example", "Rey Requester", BuiltinRole.REQUESTER),
]


class Command(BaseCommand):
    help = "Create the demo organisation 'acme' with its users and sample data. Idempotent."

    @transaction.atomic
    def handle(self, *args, **options):
        public_tenant_ensure()
        tenant = Tenant.objects.filter(subdomain=DEMO_SUBDOMAIN).first()
        if tenant is None and subdomain_is_held(DEMO_SUBDOMAIN):
            raise CommandError(
                f"The demo subdomain '{DEMO_SUBDOMAIN}' belonged to a deleted tenant and is "
                "held back from reuse; drop the database (or its DeletedTenant row) to reseed."
            )
        if tenant is None:
            tenant = tenant_create(
                name="Acme Facilities",
                subdomain=DEMO_SUBDOMAIN,
                plan=PlanCode.PREMIUM,
                status=Tenant.Status.ACTIVE,
                actor="command:seed_demo",
                onboarded=True,
            )
            self.stdout.write(f"Created tenant {tenant.name}.")
        with tenant_context(tenant):
            roles = roles_provision_defaults()
            for email, full_name, role in DEMO_USERS:
                if not User.objects.filter(email=email).exists():
                    user_create(
                        email=email,
                        password=DEMO_PASSWORD,
                        full_name=full_name,
                        roles=[roles[role]],
                    )
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo tenant ready at {tenant_domain_for(DEMO_SUBDOMAIN)}; users "
                f"{', '.join(email for email, *_ in DEMO_USERS)}, password {DEMO_PASSWORD}"
            )
        )
