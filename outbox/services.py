"""Writes for the outbox: queue mail in the sender's transaction, send it from the worker."""

from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.utils import timezone

from outbox.models import OutboundEmail

# Queued this long ago and still pending: its task was lost (broker down).
SWEEP_AFTER = timedelta(minutes=2)


def _row(message) -> OutboundEmail:
    if message.attachments:
        raise ValueError("The outbox does not carry attachments; send links instead.")
    return OutboundEmail(
        subject=str(message.subject),
        body=str(message.body),
        from_email=message.from_email or settings.DEFAULT_FROM_EMAIL,
        to=list(message.to),
        cc=list(message.cc),
        bcc=list(message.bcc),
        reply_to=list(message.reply_to),
        headers=dict(message.extra_headers),
        alternatives=[
            [str(content), mimetype] for content, mimetype in getattr(message, "alternatives", [])
        ],
    )


def emails_store(*, messages) -> list[OutboundEmail]:
    """Store ``messages`` in the outbox, in the caller's transaction."""
    return OutboundEmail.objects.bulk_create(
        [_row(message) for message in messages if message.recipients()]
    )


def emails_pending(*, now=None) -> list[int]:
    """Ids of mail pending for longer than its task should have taken: the sweep's work."""
    cutoff = (now or timezone.now()) - SWEEP_AFTER
    return list(
        OutboundEmail.objects.filter(status=OutboundEmail.Status.PENDING, created__lte=cutoff)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def _message(email: OutboundEmail) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body,
        from_email=email.from_email,
        to=email.to,
        cc=email.cc,
        bcc=email.bcc,
        reply_to=email.reply_to,
        headers=email.headers,
    )
    for content, mimetype in email.alternatives:
        message.attach_alternative(content, mimetype)
    return message


def email_deliver(*, email_id: int, final_attempt: bool = False) -> bool:
    """
    Send one pending e-mail through the delivery backend; return whether this
    call sent it. The row stays locked while sending, so two workers given the
    same id (a redelivered task, the sweep) send it once. A failure is recorded
    and raised again for the task to retry, unless this was the last attempt.
    """
    failure = None
    with transaction.atomic():
        email = (
            OutboundEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=email_id, status=OutboundEmail.Status.PENDING)
            .first()
        )
        if email is None:
            return False
        email.attempts += 1
        try:
            with get_connection(settings.EMAIL_DELIVERY_BACKEND) as connection:
                connection.send_messages([_message(email)])
        except Exception as error:  # whatever the backend raises, it is recorded
            failure = error
            email.error = repr(error)[:2000]
            if final_attempt:
                email.status = OutboundEmail.Status.FAILED
        else:
            email.status, email.sent, email.error = OutboundEmail.Status.SENT, timezone.now(), ""
        email.save(update_fields=["attempts", "error", "status", "sent"])
    if failure is not None and not final_attempt:
        raise failure
    return failure is None
