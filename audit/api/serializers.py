from rest_framework import serializers

from audit.models import AuditEntry


class AuditEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "created",
            "action",
            "actor_id",
            "actor_email",
            "ip_address",
            "user_agent",
            "target_type",
            "target_id",
            "target_repr",
            "changes",
        ]
        read_only_fields = fields
