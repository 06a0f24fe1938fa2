from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, time_limit=3600)
def suite_run(run_id: int) -> str:
    """Play every test case through the real bot turn against the run's phase (the runner
    needs the bot and the flows above this app, so it lives in supportops.flows)."""
    from supportops import flows

    run = flows.do_suite_run(run_id=run_id)
    return run.status if run is not None else "already taken"
