from django.contrib.auth.models import Group
from rest_framework import serializers

from accounts.models import APIKey, Trade, User
from accounts.roles import BuiltinRole
from accounts.selectors import user_is_lead, user_is_technician


class UserSmallSerializer(serializers.Serializer):
    """A user as other resources show one: who filed, who is assigned, who uploaded."""

    id = serializers.IntegerField()
    email = serializers.EmailField()
    full_name = serializers.CharField()


class RoleSerializer(serializers.ModelSerializer):
    permissions = serializers.SlugRelatedField(slug_field="codename", many=True, read_only=True)
    builtin = serializers.SerializerMethodField()

    class Meta:
        model = Group
        fields = ["id", "name", "builtin", "permissions"]

    def get_builtin(self, role) -> bool:
        return role.name in BuiltinRole.values


class UserSerializer(serializers.ModelSerializer):
    roles = serializers.SlugRelatedField(
        source="groups", slug_field="name", many=True, queryset=Group.objects.all()
    )
    trades = serializers.SlugRelatedField(slug_field="trade", many=True, read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "roles", "trades", "is_active", "date_joined"]
        read_only_fields = ["is_active", "date_joined"]


class UserWriteSerializer(UserSerializer):
    """What creating or changing a user takes; answers use UserSerializer."""

    trades = serializers.ListField(
        child=serializers.ChoiceField(choices=Trade.choices), required=False, default=list
    )
    is_active = serializers.BooleanField(required=False, default=True)
    password = serializers.CharField(
        write_only=True,
        required=False,
        allow_null=True,
        trim_whitespace=False,
        help_text="Leave out to create an account that cannot log in to the web UI yet.",
    )

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "password"]
        read_only_fields = ["date_joined"]


class MeSerializer(serializers.ModelSerializer):
    roles = serializers.SlugRelatedField(
        source="groups", slug_field="name", many=True, read_only=True
    )
    trades = serializers.SlugRelatedField(slug_field="trade", many=True, read_only=True)
    is_lead = serializers.SerializerMethodField(help_text="Sees and steers every request.")
    is_technician = serializers.SerializerMethodField(help_text="Can be assigned requests.")

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "roles", "trades", "is_lead", "is_technician"]

    def get_is_lead(self, user) -> bool:
        return user_is_lead(user)

    def get_is_technician(self, user) -> bool:
        return user_is_technician(user)


class APIKeySerializer(serializers.ModelSerializer):
    user = serializers.SlugRelatedField(
        slug_field="email",
        queryset=User.objects.filter(is_active=True),
        required=False,
        help_text="The account the key acts as (e-mail); by default the admin making it.",
    )
    key_hint = serializers.SerializerMethodField()

    class Meta:
        model = APIKey
        fields = ["id", "name", "access", "key_hint", "user", "created", "last_used", "revoked"]
        read_only_fields = ["created", "last_used", "revoked"]

    def get_key_hint(self, key) -> str:
        return f"smk_{key.prefix}_…"


class APIKeyCreatedSerializer(APIKeySerializer):
    key = serializers.CharField(
        read_only=True, help_text="The whole key. Shown this once only: store it now."
    )

    class Meta(APIKeySerializer.Meta):
        fields = [*APIKeySerializer.Meta.fields, "key"]
