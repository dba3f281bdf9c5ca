"""The platform's public JSON signup endpoint."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from billing.plans import PlanCode
from main_site.services import tenant_signup
from main_site.throttles import SignupRateThrottle
from main_site.views import tenant_login_url


class SignupSerializer(serializers.Serializer):
    organisation_name = serializers.CharField(max_length=200)
    subdomain = serializers.CharField(max_length=63)
    admin_name = serializers.CharField(max_length=150)
    admin_email = serializers.EmailField()
    admin_password = serializers.CharField(write_only=True, trim_whitespace=False)
    plan = serializers.ChoiceField(choices=PlanCode.choices, default=PlanCode.FREE)


class SignupCreatedSerializer(serializers.Serializer):
    subdomain = serializers.CharField()
    status = serializers.CharField()
    plan = serializers.CharField()
    trial_ends = serializers.DateTimeField(allow_null=True)
    login_url = serializers.URLField()


@extend_schema(request=SignupSerializer, responses={201: SignupCreatedSerializer}, tags=["signup"])
class SignupAPIView(APIView):
    """Create an organisation; answers 201 with its address and login URL."""

    authentication_classes = []
    permission_classes = []
    throttle_classes = [SignupRateThrottle]

    def post(self, request):
        serializer = SignupSerializer(data=request.data)
        if not serializer.is_valid():
            return validation_error_response(serializer.errors)
        try:
            tenant = tenant_signup(**serializer.validated_data)
        except ValidationError as error:
            return validation_error_response(error.message_dict)
        return Response(
            {
                "subdomain": tenant.subdomain,
                "status": tenant.status,
                "plan": tenant.plan,
                "trial_ends": tenant.trial_ends,
                "login_url": tenant_login_url(request, tenant),
            },
            status=status.HTTP_201_CREATED,
        )


def validation_error_response(field_errors):
    return Response(
        {
            "code": "invalid",
            "message": "Some fields are not valid.",
            "fields": {
                field: [str(m) for m in messages] for field, messages in field_errors.items()
            },
        },
        status=status.HTTP_400_BAD_REQUEST,
    )
