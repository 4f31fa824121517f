"""The project's own periodic task: the heartbeat of background work (wms.health)."""

from celery import shared_task

from wms import health


@shared_task(name="wms.heartbeat", ignore_result=True)
def heartbeat_task() -> None:
    """Stamp the heartbeat; sent by beat every 30 seconds (settings), run by any worker. Safe to
    run twice (it only moves a timestamp)."""
    health.heartbeat_record()
