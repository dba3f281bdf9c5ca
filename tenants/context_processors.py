def tenant_notice(request):
    """A banner for every page of a read-only tenant, saying why."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.is_public or not tenant.is_read_only:
        return {}
    if tenant.status == tenant.Status.CANCELLED:
        notice = "This account was cancelled and is read-only."
    else:
        notice = "Your trial has ended: the account is read-only until a plan is chosen."
    return {"tenant_notice": notice}
