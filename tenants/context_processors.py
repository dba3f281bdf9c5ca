def tenant_notice(request):
    """A banner for every page of a read-only or past-due tenant, saying why."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or tenant.is_public:
        return {}
    if tenant.status == tenant.Status.PAST_DUE:
        deadline = tenant.subscription_expires
        when = f" by {deadline:%Y-%m-%d}" if deadline else ""
        return {
            "tenant_notice": (
                f"The last payment failed: an administrator must update the card{when}, "
                "or the account will be suspended."
            )
        }
    if not tenant.is_read_only:
        return {}
    if tenant.status == tenant.Status.CANCELLED:
        notice = "This account was cancelled and is read-only."
    else:
        notice = "Your trial has ended: the account is read-only until a plan is chosen."
    return {"tenant_notice": notice}
