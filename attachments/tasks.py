"""Periodic jobs of attachments, run in each tenant by the fan-out (tenants.jobs)."""

from celery import shared_task

from attachments.sweep import orphaned_files_sweep


@shared_task(ignore_result=True)
def attachments_sweep_orphans():
    """Delete uploaded files no row refers to (a rolled-back upload's), after a grace period."""
    orphaned_files_sweep()
