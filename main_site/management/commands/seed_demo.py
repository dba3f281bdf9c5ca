from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.api_keys import api_key_create, api_key_list, api_key_revoke
from accounts.models import APIKey, User
from accounts.roles import BuiltinRole
from accounts.services import roles_provision_defaults, user_create, user_trades_set
from assets.models import Asset
from assets.services import asset_create, location_create
from billing.plans import PlanCode
from billing.services import public_tenant_ensure, tenant_change_plan, tenant_create
from preventive.services import preventive_requests_generate, schedule_create
from requests_app.services import (
    request_comment_create,
    request_create,
    request_transition,
)
from tenants.models import Tenant
from tenants.selectors import subdomain_is_held
from tenants.services import tenant_domain_for

DEMO_SUBDOMAIN = "acme"
DEMO_PASSWORD = "demo-pass-2024"  # noqa: S105 -- published in the README for the demo
DEMO_API_KEY_NAME = "Demo (seed_demo)"
DEMO_USERS = [
    ("admin@acme.example", "Ada Admin", BuiltinRole.ADMIN),
    ("manager@acme.example", "Max Manager", BuiltinRole.MANAGER),
    ("technician@acme.example", "Tess Technician", BuiltinRole.TECHNICIAN),
    ("requester@acme.example", "Rey Requester", BuiltinRole.REQUESTER),
]


class Command(BaseCommand):
    help = "Create the demo organisation 'acme' with its users and sample data. Idempotent."

    def handle(self, *args, **options):
        # Demo users have made-up addresses: the workflow's e-mails go nowhere.
        with override_settings(EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend"):
            self._seed()

    @transaction.atomic
    def _seed(self):
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
        elif tenant.plan != PlanCode.PREMIUM:
            # An acme seeded by an older version; the demo shows premium features.
            tenant_change_plan(tenant=tenant, plan=PlanCode.PREMIUM, actor="command:seed_demo")
        with tenant_context(tenant):
            roles = roles_provision_defaults()
            for email, full_name, role in DEMO_USERS:
                existing = User.objects.filter(email=email).first()
                if existing is not None:
                    # Demo users seeded before roles existed get theirs now.
                    existing.groups.add(roles[role])
                else:
                    user_create(
                        email=email,
                        password=DEMO_PASSWORD,
                        full_name=full_name,
                        roles=[roles[role]],
                    )
            if not Asset.objects.exists():
                self._seed_maintenance_data()
            raw_key = self._demo_api_key()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo tenant ready at {tenant_domain_for(DEMO_SUBDOMAIN)}; users "
                f"{', '.join(email for email, *_ in DEMO_USERS)}, password {DEMO_PASSWORD}"
            )
        )
        self.stdout.write(
            f"Demo API key (read-write, acts as {DEMO_USERS[0][0]}; a new one each run):\n"
            f"  export SM_API_KEY={raw_key}"
        )

    @staticmethod
    def _demo_api_key() -> str:
        """
        A fresh key for the README's curl examples. Keys are stored hashed, so
        the previous demo key cannot be shown again: it is revoked and replaced.
        """
        admin = User.objects.get(email=DEMO_USERS[0][0])
        for key in api_key_list().filter(name=DEMO_API_KEY_NAME, revoked__isnull=True):
            api_key_revoke(key=key, by=admin)
        _key, raw_key = api_key_create(
            by=admin, name=DEMO_API_KEY_NAME, access=APIKey.Access.READ_WRITE
        )
        return raw_key

    @staticmethod
    def _seed_maintenance_data():
        """Locations, assets and requests in every state, through the services."""
        users = {role: User.objects.get(email=email) for email, _name, role in DEMO_USERS}
        manager = users[BuiltinRole.MANAGER]
        technician = users[BuiltinRole.TECHNICIAN]
        requester = users[BuiltinRole.REQUESTER]
        user_trades_set(user=technician, trades=["electrical", "plumbing", "hvac"])

        site = location_create(name="Head office", kind="site", address="1 Acme Way")
        building = location_create(name="Main building", kind="building", parent=site)
        ground = location_create(name="Ground floor", kind="floor", parent=building)
        plant_room = location_create(name="Plant room", kind="room", parent=ground)
        kitchen = location_create(name="Staff kitchen", kind="room", parent=ground)

        boiler = asset_create(
            name="Gas boiler", asset_tag="HVAC-001", category="HVAC", location=plant_room,
            manufacturer="Vaillant", model="ecoTEC plus", user=manager,
        )  # fmt: skip
        panel = asset_create(
            name="Distribution board", asset_tag="ELEC-001", category="Electrical",
            location=plant_room, user=manager,
        )  # fmt: skip
        sink = asset_create(
            name="Kitchen sink", asset_tag="PLUMB-001", category="Plumbing", location=kitchen,
            user=manager,
        )  # fmt: skip

        def file(title, type, priority, asset, details=None):
            return request_create(
                title=title, type=type, priority=priority, requester=requester, asset=asset,
                description=f"{title}. Reported by the demo requester.", details=details,
            )  # fmt: skip

        # Each request is walked through these workflow steps, so every state is shown.
        walks = [
            ("Radiator cold on ground floor", "hvac", "medium", boiler, []),
            ("Flickering lights in plant room", "electrical", "high", panel, ["triaged"]),
            ("Tap drips constantly", "plumbing", "low", sink, ["triaged", "assigned"]),
            ("Boiler pressure low", "hvac", "urgent", boiler,
             ["triaged", "assigned", "in_progress"]),
            ("Breaker trips at lunch", "electrical", "high", panel,
             ["triaged", "assigned", "in_progress", "on_hold"]),
            ("Sink drains slowly", "plumbing", "medium", sink,
             ["triaged", "assigned", "in_progress", "resolved"]),
            ("Boiler annual service", "hvac", "low", boiler,
             ["triaged", "assigned", "in_progress", "resolved", "closed"]),
            ("Kitchen extractor still noisy", "hvac", "medium", boiler,
             ["triaged", "assigned", "in_progress", "resolved", "reopened"]),
            ("Duplicate: lights flicker", "electrical", "low", panel, ["cancelled"]),
        ]  # fmt: skip
        details = {
            "electrical": {"voltage": 230, "circuit": "DB1 / way 4", "hazard_present": False},
            "plumbing": {"leak_severity": "drip", "fixture": "Kitchen sink"},
            "hvac": {"system_type": "boiler"},
        }
        actor_for = {
            "triaged": manager, "assigned": manager, "in_progress": technician,
            "on_hold": technician, "resolved": technician, "closed": manager,
            "cancelled": manager, "reopened": requester,
        }  # fmt: skip
        for title, type, priority, asset, steps in walks:
            request = file(title, type, priority, asset, details.get(type))
            for step in steps:
                request_transition(
                    request=request, to_status=step, by=actor_for[step], note="Demo data",
                    assignee=technician if step == "assigned" else None,
                )  # fmt: skip
            request_comment_create(
                request=request, author=requester, body="Thanks for looking into this."
            )

        # Preventive maintenance: a monthly boiler check that started two months ago,
        # so the first generation run files its dates (and never twice).
        schedule_create(
            asset=boiler,
            title="Monthly boiler check",
            recurrence="months",
            interval=1,
            starts_on=timezone.localdate() - timedelta(days=60),
            request_type="hvac",
            priority="medium",
            steps=["Check pressure gauge", "Inspect flue", "Bleed radiators", "Log readings"],
        )
        schedule_create(
            asset=panel,
            title="Weekly distribution board inspection",
            recurrence="weeks",
            interval=1,
            starts_on=timezone.localdate(),
            request_type="electrical",
            priority="low",
            steps=["Look for scorch marks", "Test RCDs"],
        )
        preventive_requests_generate()
