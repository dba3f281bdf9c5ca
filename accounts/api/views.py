from django.contrib.auth.models import Group
from drf_spectacular.utils import extend_schema
from rest_framework import generics, mixins, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from accounts import api_keys, selectors, services
from accounts.api import serializers
from accounts.models import User
from smartmaintenance.api.permissions import HasModelPermission


class MeView(generics.RetrieveAPIView):
    """The user the call acts as: for an API key, the admin who made it."""

    serializer_class = serializers.MeSerializer

    def get_object(self):
        return self.request.user


class AdminOnly(HasModelPermission):
    """Users and roles are for the tenant's admins: reading them needs ``change_<model>``."""

    perms_map = {
        **HasModelPermission.perms_map,
        "GET": ["%(app_label)s.change_%(model_name)s"],
        "HEAD": ["%(app_label)s.change_%(model_name)s"],
    }


class UserViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """
    The organisation's staff, for its admins: the same rules as the Users
    page (accounts.services). A user with a role other than Requester takes a
    seat of the plan's user limit. Users are deactivated (`is_active`), never
    deleted; nobody can deactivate themselves or remove the last active Admin.
    """

    http_method_names = ["get", "post", "patch", "head", "options"]

    queryset = User.objects.prefetch_related("groups", "trades").order_by("email")
    permission_classes = [*viewsets.GenericViewSet.permission_classes, AdminOnly]
    filterset_fields = ["is_active"]
    search_fields = ["email", "full_name"]
    ordering_fields = ["email", "full_name", "date_joined"]

    def get_serializer_class(self):
        if self.action in ("create", "partial_update"):
            return serializers.UserWriteSerializer
        return serializers.UserSerializer

    def _answer(self, user, status_code=status.HTTP_200_OK):
        body = serializers.UserSerializer(self.get_queryset().get(pk=user.pk)).data
        return Response(body, status=status_code)

    @extend_schema(responses={201: serializers.UserSerializer})
    def create(self, request):
        serializer = serializers.UserWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        user = services.user_invite(
            by=request.user,
            email=data["email"],
            password=data.get("password"),
            full_name=data.get("full_name", ""),
            roles=data.get("groups", []),
            trades=data.get("trades", []),
        )
        return self._answer(user, status.HTTP_201_CREATED)

    @extend_schema(responses={200: serializers.UserSerializer})
    def partial_update(self, request, pk=None):
        user = self.get_object()
        serializer = serializers.UserWriteSerializer(user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if "email" in data and data["email"].lower() != user.email:
            raise ValidationError({"email": ["An e-mail address cannot be changed."]})
        # The serializer calls roles "groups", as the model does.
        given = {
            "roles" if field == "groups" else field: value
            for field, value in data.items()
            if field in ("full_name", "groups", "is_active", "trades")
        }
        services.user_update(
            user=user,
            by=request.user,
            password=data.get("password"),
            **{**selectors.user_settings(user), **given},
        )
        return self._answer(user)


class RoleViewSet(viewsets.ReadOnlyModelViewSet):
    """Roles (Django groups) and the permissions they grant."""

    queryset = Group.objects.prefetch_related("permissions").order_by("name")
    serializer_class = serializers.RoleSerializer
    permission_classes = [*viewsets.ReadOnlyModelViewSet.permission_classes, AdminOnly]
    pagination_class = None


class APIKeyViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """
    The organisation's API keys, for its admins. The whole key is in the
    answer to its creation only; DELETE revokes it for good.
    """

    serializer_class = serializers.APIKeySerializer
    permission_classes = [*viewsets.GenericViewSet.permission_classes, HasModelPermission]
    filterset_fields = ["access"]
    ordering_fields = ["created", "last_used", "name"]

    def get_queryset(self):
        return api_keys.api_key_list()

    @extend_schema(
        request=serializers.APIKeySerializer, responses={201: serializers.APIKeyCreatedSerializer}
    )
    def create(self, request):
        serializer = serializers.APIKeySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key, raw_key = api_keys.api_key_create(by=request.user, **serializer.validated_data)
        key.key = raw_key
        return Response(
            serializers.APIKeyCreatedSerializer(key).data, status=status.HTTP_201_CREATED
        )

    def perform_destroy(self, key):
        api_keys.api_key_revoke(key=key, by=self.request.user)
