from django.contrib.auth import views as auth_views


class LoginView(auth_views.LoginView):
    """Log-in on a tenant's subdomain; ``?email=`` pre-fills the address after signup."""

    def get_initial(self):
        return {**super().get_initial(), "username": self.request.GET.get("email", "")}
