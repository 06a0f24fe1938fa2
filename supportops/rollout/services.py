"""Writes for rollout: plans, phases and their status, the kill switch, arm assignment,
test cases and suite runs. Every change is atomic and audited (action `rollout.*`, with the
plan's id and the values before and after, which the plan's page lists).

Sticky assignment. A customer's bucket is HMAC-SHA256(workspace key, identity) read as a
number in [0, 1); the customer is in the control group when the bucket is below the phase's
control share. The identity is the host site's customer id for verified customers and the
visitor id for anonymous visitors, the same on every channel, so all of a customer's
conversations land in the same arm. Because the rule is a threshold on a fixed number,
raising the share from 10% to 20% moves exactly the customers with buckets in [0.1, 0.2)
and nobody else, the fewest any reassignment can move.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from supportops.accounts.models import Membership, Role, Workspace
from supportops.accounts.services import Actor, audit_log_write, real_user
from supportops.conversations.models import Conversation, Customer

from .models import (
    BOT_OFF,
    CHANNEL,
    Assignment,
    CaseResult,
    Phase,
    Plan,
    RolloutSettings,
    SuiteCase,
    SuiteRun,
)
from .selectors import bot_gate, customers_between, rollout_settings_get, suite_run_latest

EDITORS = (Role.ADMIN, Role.MANAGER)
NAME_MAX = 120
REASON_MAX = 300


class RolloutError(ValueError):
    """A change was refused; `field` names the input to fix, the message says how."""

    def __init__(self, message: str, field: str = "") -> None:
        self.field = field
        super().__init__(message)


def _require_editor(workspace: Workspace, actor: Actor) -> User | None:
    """Managers and admins change rollout; None is the system (a guardrail, a command)."""
    if actor is None:
        return None
    person = real_user(actor)
    role = (
        Membership.objects.filter(workspace=workspace, user=person)
        .values_list("role", flat=True)
        .first()
        if person
        else None
    )
    if role not in EDITORS:
        raise RolloutError("Only managers and admins may change the rollout.")
    return person


def _audit(
    workspace: Workspace, actor: Actor, action: str, target: Any, details: dict[str, Any]
) -> None:
    label = "" if real_user(actor) else "rollout"
    audit_log_write(
        workspace=workspace,
        actor=actor,
        action=f"rollout.{action}",
        target=target,
        details=details,
        actor_label=label,
    )


# --- Assignment -----------------------------------------------------------------------------


def customer_identity(customer: Customer) -> str:
    """What the bucket hashes: the same for every conversation of the customer."""
    if customer.external_id:
        return f"customer:{customer.external_id}"
    if customer.visitor_id:
        return f"visitor:{customer.visitor_id}"
    return f"pk:{customer.pk}"


def bucket_of(*, key: str, workspace_id: int, identity: str) -> float:
    """A uniform number in [0, 1) from the keyed hash of workspace and customer."""
    digest = hmac.new(
        key.encode(), f"{workspace_id}\x1f{identity}".encode(), hashlib.sha256
    ).digest()
    return (int.from_bytes(digest[:8], "big") >> 11) / float(1 << 53)


def arm_of(*, bucket: float, control_share: float) -> str:
    if bucket < control_share:
        return Conversation.Arm.HUMAN_ONLY
    return Conversation.Arm.AI_FIRST


@dataclass(frozen=True)
class StartPlan:
    """How a conversation about to start is handled: its arm and what the customer gets."""

    arm: str
    bucket: float
    start: str  # Assignment.Start
    phase: Phase | None  # the live phase it counts towards (None: no experiment)
    reason: str = ""

    @property
    def with_assistant(self) -> bool:
        return self.start == Assignment.Start.ASSISTANT


def assignment_decide(
    *,
    workspace: Workspace,
    customer: Customer,
    bot_enabled: bool,
    served: bool = True,
    arm: str | None = None,
) -> StartPlan:
    """The arm of a customer's new conversation and whether the assistant greets them.

    Without a live or paused phase everyone is AI-first (the bot is not limited by
    rollout). The kill switch, a paused phase or an assistant switched off in the settings
    put the conversation with people from the start; those conversations keep the
    customer's arm but count in no phase's readout. A conversation on a channel the
    assistant does not answer (`served=False`: email) keeps the customer's arm and counts
    in the live phase's readout (by intention to treat: a customer's every contact counts).
    `arm` fixes the arm instead of the customer's bucket (evaluations replaying recorded
    timelines); such a conversation counts in no phase."""
    settings = rollout_settings_get(workspace=workspace)
    bucket = bucket_of(
        key=settings.assignment_key,
        workspace_id=workspace.pk,
        identity=customer_identity(customer),
    )
    gate = bot_gate(workspace=workspace, settings=settings)
    current = gate.phase
    if arm is not None:
        current = None
    elif current is not None:
        arm = arm_of(bucket=bucket, control_share=current.control_share)
    else:
        arm = Conversation.Arm.AI_FIRST
    if not bot_enabled:
        return StartPlan(arm, bucket, BOT_OFF, None, "the assistant is switched off")
    if gate.stop:
        return StartPlan(arm, bucket, gate.stop, None, gate.reason)
    if not served:
        return StartPlan(arm, bucket, CHANNEL, current, "the assistant does not answer it")
    if arm == Conversation.Arm.HUMAN_ONLY:
        return StartPlan(arm, bucket, Assignment.Start.CONTROL, current, "control group")
    return StartPlan(arm, bucket, Assignment.Start.ASSISTANT, current)


def assignment_record(*, conversation: Conversation, plan: StartPlan) -> Assignment:
    return Assignment.objects.create(
        workspace_id=conversation.workspace_id,
        conversation=conversation,
        customer_id=conversation.customer_id,
        phase=plan.phase,
        arm=plan.arm,
        bucket=plan.bucket,
        start=plan.start,
    )


def assignment_start_of(*, conversation: Conversation) -> str:
    """How the conversation started (Assignment.Start); conversations from before rollout
    existed that started with people count as started with the assistant switched off."""
    start = (
        Assignment.objects.filter(conversation=conversation).values_list("start", flat=True).first()
    )
    return start or BOT_OFF


# --- Plans and phases -----------------------------------------------------------------------


def _clean_name(name: str, what: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise RolloutError(f"Give the {what} a name.", "name")
    if len(name) > NAME_MAX:
        raise RolloutError(f"The name is {len(name)} characters; the limit is {NAME_MAX}.", "name")
    return name


@transaction.atomic
def plan_create(*, workspace: Workspace, actor: Actor, name: str, description: str = "") -> Plan:
    person = _require_editor(workspace, actor)
    name = _clean_name(name, "plan")
    if Plan.objects.filter(workspace=workspace, name__iexact=name).exists():
        raise RolloutError(f"There is already a plan called “{name}”.", "name")
    plan = Plan.objects.create(
        workspace=workspace, name=name, description=description.strip()[:2000], created_by=person
    )
    _audit(workspace, actor, "plan_create", plan, {"plan_id": plan.pk, "after": {"name": name}})
    return plan


def _clean_categories(categories: Collection[str], known: Collection[str]) -> list[str]:
    by_fold = {k.casefold(): k for k in known}
    cleaned: list[str] = []
    for raw in categories:
        name = " ".join(str(raw).split())
        if not name:
            continue
        match = by_fold.get(name.casefold())
        if match is None:
            choices = ", ".join(sorted(known)) or "none yet: add issue categories in the settings"
            raise RolloutError(f"Unknown category “{name}”. Choose from: {choices}.", "categories")
        if match not in cleaned:
            cleaned.append(match)
    if not cleaned:
        raise RolloutError("Enable at least one category for the bot.", "categories")
    return cleaned


def share_from_percent(value: Any) -> float:
    """A control share typed as a percentage ("10", "12.5"), as a fraction."""
    try:
        percent = float(str(value).strip().rstrip("%"))
    except (TypeError, ValueError):
        raise RolloutError(
            "The control share must be a number of percent from 0 to 100.", "control_share"
        ) from None
    if percent != percent or not 0 <= percent <= 100:  # NaN too
        raise RolloutError(
            f"The control share must be from 0% to 100% (got {value}).", "control_share"
        )
    return round(percent / 100, 6)


GUARDRAIL_RANGES = {
    "max_repeat_increase_pts": (0.1, 50.0, "The repeat-contact limit"),
    "max_csat_drop": (0.01, 4.0, "The CSAT limit"),
    "max_fcr_drop_pts": (0.1, 50.0, "The first-contact resolution limit"),
    "min_effect_pts": (0.5, 50.0, "The minimum effect"),
}
PHASE_FIELDS = (
    "name",
    "categories",
    "control_share",
    "starts_on",
    "ends_on",
    *GUARDRAIL_RANGES,
)
# While live or paused, only these may change (the categories define the experiment).
LIVE_EDITABLE = {"control_share", "ends_on", *GUARDRAIL_RANGES}


def _phase_values(values: dict[str, Any], known: Collection[str]) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    if "name" in values:
        clean["name"] = _clean_name(values["name"], "phase")
    if "categories" in values:
        clean["categories"] = _clean_categories(values["categories"], known)
    if "control_share" in values:
        share = values["control_share"]
        if isinstance(share, float) and 0 <= share <= 1:
            clean["control_share"] = share
        else:
            clean["control_share"] = share_from_percent(share)
    for key in ("starts_on", "ends_on"):
        if key in values:
            if values[key] is not None and not isinstance(values[key], date):
                raise RolloutError("Dates are written YYYY-MM-DD.", key)
            clean[key] = values[key]
    for key, (low, high, label) in GUARDRAIL_RANGES.items():
        if key not in values:
            continue
        value = values[key]
        if value in (None, ""):
            if key == "min_effect_pts":
                raise RolloutError(f"{label} is required.", key)
            clean[key] = None
            continue
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise RolloutError(f"{label} must be a number.", key) from None
        if not low <= number <= high:
            raise RolloutError(f"{label} must be from {low:g} to {high:g}.", key)
        clean[key] = number
    return clean


def _check_dates(phase: Phase) -> None:
    if phase.starts_on and phase.ends_on and phase.ends_on < phase.starts_on:
        raise RolloutError("The phase cannot end before it starts.", "ends_on")


def _snapshot(phase: Phase) -> dict[str, Any]:
    return {
        "name": phase.name,
        "categories": list(phase.categories or []),
        "control_share": phase.control_share,
        "starts_on": phase.starts_on.isoformat() if phase.starts_on else None,
        "ends_on": phase.ends_on.isoformat() if phase.ends_on else None,
        "status": phase.status,
        **{key: getattr(phase, key) for key in GUARDRAIL_RANGES},
    }


@transaction.atomic
def phase_create(
    *, plan: Plan, actor: Actor, known_categories: Collection[str], **values: Any
) -> Phase:
    """A new draft phase at the end of the plan (name and categories required)."""
    workspace = plan.workspace
    _require_editor(workspace, actor)
    unknown = set(values) - set(PHASE_FIELDS)
    if unknown:
        raise ValueError(f"not a phase setting: {', '.join(sorted(unknown))}")
    values.setdefault("categories", [])
    values.setdefault("name", "")
    clean = _phase_values(values, known_categories)
    last = plan.phases.order_by("-position").values_list("position", flat=True).first()
    phase = Phase(workspace=workspace, plan=plan, position=(last or 0) + 1, **clean)
    _check_dates(phase)
    phase.save()
    _audit(
        workspace,
        actor,
        "phase_create",
        phase,
        {"plan_id": plan.pk, "phase": phase.name, "after": _snapshot(phase)},
    )
    return phase


@dataclass(frozen=True)
class PhaseChange:
    phase: Phase
    changes: dict[str, dict[str, Any]]
    customers_moved: int | None = None  # when the control share changed


@transaction.atomic
def phase_update(
    *, phase: Phase, actor: Actor, known_categories: Collection[str], **values: Any
) -> PhaseChange:
    """Change a phase's settings. Draft and testing phases change freely; a live or paused
    phase only its control share, end date and guardrails. Changing the share reports how
    many customers with conversations moved between the arms."""
    workspace = phase.workspace
    _require_editor(workspace, actor)
    phase = Phase.objects.select_for_update().get(pk=phase.pk)
    unknown = set(values) - set(PHASE_FIELDS)
    if unknown:
        raise ValueError(f"not a phase setting: {', '.join(sorted(unknown))}")
    clean = _phase_values(values, known_categories)
    before = _snapshot(phase)
    changed = {k: v for k, v in clean.items() if getattr(phase, k) != v}
    if not changed:
        return PhaseChange(phase=phase, changes={})
    if phase.status == Phase.Status.COMPLETE:
        raise RolloutError("A complete phase is kept as it ran; add a new phase instead.")
    if phase.status in (Phase.Status.LIVE, Phase.Status.PAUSED):
        frozen = sorted(set(changed) - LIVE_EDITABLE)
        if frozen:
            raise RolloutError(
                f"A {phase.status} phase keeps its {', '.join(frozen)}: complete it and add "
                "the next phase to change what the bot handles.",
                frozen[0],
            )
    old_share = phase.control_share
    for key, value in changed.items():
        setattr(phase, key, value)
    _check_dates(phase)
    phase.save()
    after = _snapshot(phase)
    changes = {k: {"before": before[k], "after": after[k]} for k in changed}
    moved = None
    if "control_share" in changed:
        moved = customers_between(workspace=workspace, low=old_share, high=phase.control_share)
    _audit(
        workspace,
        actor,
        "phase_update",
        phase,
        {
            "plan_id": phase.plan_id,
            "phase": phase.name,
            "changes": changes,
            **({"customers_moved": moved} if moved is not None else {}),
        },
    )
    return PhaseChange(phase=phase, changes=changes, customers_moved=moved)


def phase_fingerprint(phase: Phase) -> str:
    """What a suite run tested: the categories (the control share does not change a test)."""
    payload = json.dumps(sorted(c.casefold() for c in phase.categories or []))
    return hashlib.sha256(payload.encode()).hexdigest()


def _transition(
    phase: Phase, actor: Actor, allowed_from: tuple[str, ...], to: str, details: dict[str, Any]
) -> Phase:
    locked = Phase.objects.select_for_update().get(pk=phase.pk)
    if locked.status not in allowed_from:
        labels = " or ".join(Phase.Status(s).label.lower() for s in allowed_from)
        raise RolloutError(
            f"“{locked.name}” is {locked.get_status_display().lower()}; only a {labels} phase "
            f"can become {Phase.Status(to).label.lower()}."
        )
    before = locked.status
    locked.status = to
    now = timezone.now()
    if to == Phase.Status.LIVE:
        locked.went_live_at = locked.went_live_at or now
        locked.paused_at, locked.paused_reason, locked.paused_by_guardrail = None, "", False
    elif to == Phase.Status.PAUSED:
        locked.paused_at = now
    elif to == Phase.Status.COMPLETE:
        locked.completed_at = now
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError:
        live = Phase.objects.filter(workspace_id=locked.workspace_id, status="live").first()
        raise RolloutError(
            f"“{live.name if live else 'Another phase'}” is live; only one phase can be live "
            "at a time. Complete or pause it first."
        ) from None
    _audit(
        locked.workspace,
        actor,
        f"phase_{to}",
        locked,
        {
            "plan_id": locked.plan_id,
            "phase": locked.name,
            "changes": {"status": {"before": before, "after": to}},
            **details,
        },
    )
    phase.__dict__.update(locked.__dict__)
    return phase


@transaction.atomic
def phase_start_testing(*, phase: Phase, actor: Actor) -> Phase:
    _require_editor(phase.workspace, actor)
    return _transition(phase, actor, (Phase.Status.DRAFT,), Phase.Status.TESTING, {})


@transaction.atomic
def phase_back_to_draft(*, phase: Phase, actor: Actor) -> Phase:
    _require_editor(phase.workspace, actor)
    return _transition(phase, actor, (Phase.Status.TESTING,), Phase.Status.DRAFT, {})


def promotion_blocker(*, phase: Phase) -> str:
    """Why the phase cannot go live yet ("" when it can): its latest suite run must be for
    its current settings and pass the workspace's threshold."""
    threshold = rollout_settings_get(workspace=phase.workspace_id).suite_pass_threshold
    run = suite_run_latest(phase=phase)
    if run is None:
        return "Run the test suite against this phase first."
    if run.status in (SuiteRun.Status.QUEUED, SuiteRun.Status.RUNNING):
        return "The test suite is still running."
    if run.status == SuiteRun.Status.FAILED:
        return f"The last suite run failed to finish ({run.error}); run it again."
    if run.phase_fingerprint != phase_fingerprint(phase):
        return "The phase's categories changed since the last suite run; run it again."
    if run.total == 0:
        return "The suite has no test cases; add some and run it."
    if run.pass_rate < threshold:
        return (
            f"The last suite run passed {run.passed} of {run.total} cases "
            f"({run.pass_rate:.0%}); going live needs {threshold:.0%}."
        )
    return ""


@transaction.atomic
def phase_promote(*, phase: Phase, actor: Actor) -> Phase:
    """Testing → live, once the latest suite run passes; at most one live phase."""
    _require_editor(phase.workspace, actor)
    blocker = promotion_blocker(phase=phase)
    if blocker:
        raise RolloutError(blocker)
    run = suite_run_latest(phase=phase)
    return _transition(
        phase,
        actor,
        (Phase.Status.TESTING,),
        Phase.Status.LIVE,
        {"suite_run_id": run.pk if run else None},
    )


@transaction.atomic
def phase_pause(*, phase: Phase, actor: Actor, reason: str, guardrail: bool = False) -> Phase:
    """Live → paused: the bot stops answering until it is resumed (new and open
    conversations go to people). A guardrail pauses with `actor=None, guardrail=True`."""
    _require_editor(phase.workspace, actor)
    reason = " ".join((reason or "").split())[:500]
    if not reason:
        raise RolloutError("Say why the phase is paused.", "reason")
    phase = _transition(
        phase,
        actor,
        (Phase.Status.LIVE,),
        Phase.Status.PAUSED,
        {"reason": reason, "guardrail": guardrail},
    )
    Phase.objects.filter(pk=phase.pk).update(paused_reason=reason, paused_by_guardrail=guardrail)
    phase.paused_reason, phase.paused_by_guardrail = reason, guardrail
    return phase


@transaction.atomic
def phase_resume(*, phase: Phase, actor: Actor, reason: str = "") -> Phase:
    """Paused → live. Resuming after a guardrail pause needs a reason (it is audited)."""
    _require_editor(phase.workspace, actor)
    reason = " ".join((reason or "").split())[:500]
    if phase.paused_by_guardrail and not reason:
        raise RolloutError("A guardrail paused this phase: say why it is safe to resume.", "reason")
    return _transition(
        phase,
        actor,
        (Phase.Status.PAUSED,),
        Phase.Status.LIVE,
        {"reason": reason, "was_paused_for": phase.paused_reason},
    )


@transaction.atomic
def phase_complete(*, phase: Phase, actor: Actor) -> Phase:
    _require_editor(phase.workspace, actor)
    return _transition(
        phase, actor, (Phase.Status.LIVE, Phase.Status.PAUSED), Phase.Status.COMPLETE, {}
    )


@transaction.atomic
def phase_delete(*, phase: Phase, actor: Actor) -> None:
    """Only a phase that never went live may be deleted (a live one keeps its history)."""
    _require_editor(phase.workspace, actor)
    if phase.went_live_at is not None:
        raise RolloutError("This phase has been live; complete it instead of deleting it.")
    _audit(
        phase.workspace,
        actor,
        "phase_delete",
        phase,
        {"plan_id": phase.plan_id, "phase": phase.name, "before": _snapshot(phase)},
    )
    phase.delete()


# --- The kill switch and the suite threshold -------------------------------------------------


@transaction.atomic
def bot_pause(*, workspace: Workspace, actor: Actor, reason: str) -> RolloutSettings:
    """The kill switch: the bot stops answering in the whole workspace at once. New
    conversations start with people; open bot conversations go to people on the customer's
    next message (the bot sends nothing more; a turn being computed is re-checked before
    its answer is sent)."""
    person = _require_editor(workspace, actor)
    reason = " ".join((reason or "").split())[:REASON_MAX]
    if not reason:
        raise RolloutError("Say why the bot is paused (it is recorded).", "reason")
    rollout_settings_get(workspace=workspace)
    settings = RolloutSettings.objects.select_for_update().get(workspace=workspace)
    if settings.bot_paused:
        return settings
    settings.bot_paused, settings.paused_at = True, timezone.now()
    settings.paused_by, settings.paused_reason = person, reason
    settings.save()
    _audit(
        workspace,
        actor,
        "bot_pause",
        settings,
        {"reason": reason, "changes": {"bot_paused": {"before": False, "after": True}}},
    )
    return settings


@transaction.atomic
def bot_resume(*, workspace: Workspace, actor: Actor, reason: str = "") -> RolloutSettings:
    _require_editor(workspace, actor)
    rollout_settings_get(workspace=workspace)
    settings = RolloutSettings.objects.select_for_update().get(workspace=workspace)
    if not settings.bot_paused:
        return settings
    was = settings.paused_reason
    settings.bot_paused, settings.paused_at, settings.paused_by = False, None, None
    settings.paused_reason = ""
    settings.save()
    _audit(
        workspace,
        actor,
        "bot_resume",
        settings,
        {
            "reason": " ".join((reason or "").split())[:REASON_MAX],
            "was_paused_for": was,
            "changes": {"bot_paused": {"before": True, "after": False}},
        },
    )
    return settings


@transaction.atomic
def suite_threshold_set(*, workspace: Workspace, actor: Actor, percent: Any) -> RolloutSettings:
    _require_editor(workspace, actor)
    try:
        value = float(str(percent).strip().rstrip("%"))
    except ValueError:
        raise RolloutError(
            "The pass threshold is a percentage from 50 to 100.", "threshold"
        ) from None
    if not 50 <= value <= 100:
        raise RolloutError("The pass threshold is a percentage from 50 to 100.", "threshold")
    rollout_settings_get(workspace=workspace)
    settings = RolloutSettings.objects.select_for_update().get(workspace=workspace)
    before = settings.suite_pass_threshold
    settings.suite_pass_threshold = round(value / 100, 4)
    if settings.suite_pass_threshold != before:
        settings.save(update_fields=["suite_pass_threshold", "updated_at"])
        _audit(
            workspace,
            actor,
            "threshold_set",
            settings,
            {"changes": {"suite_pass_threshold": {"before": before, "after": value / 100}}},
        )
    return settings


# --- Suite runs (the runner itself is supportops.flows.do_suite_run) --------------------------


@transaction.atomic
def suite_run_create(*, phase: Phase, actor: Actor) -> SuiteRun:
    """Queue a run of every test case against the phase's settings (on commit)."""
    from functools import partial

    from .tasks import suite_run as suite_run_task

    person = _require_editor(phase.workspace, actor)
    if phase.status == Phase.Status.COMPLETE:
        raise RolloutError("This phase is complete; test the next one.")
    busy = phase.suite_runs.filter(
        status__in=[SuiteRun.Status.QUEUED, SuiteRun.Status.RUNNING]
    ).first()
    if busy is not None:
        return busy
    total = SuiteCase.objects.filter(workspace=phase.workspace).count()
    if total == 0:
        raise RolloutError("Add test cases first (import a file or add one from a conversation).")
    run = SuiteRun.objects.create(
        workspace=phase.workspace,
        phase=phase,
        phase_fingerprint=phase_fingerprint(phase),
        threshold=rollout_settings_get(workspace=phase.workspace).suite_pass_threshold,
        total=total,
        started_by=person,
    )
    _audit(
        phase.workspace,
        actor,
        "suite_run",
        run,
        {"plan_id": phase.plan_id, "phase": phase.name, "cases": total},
    )
    transaction.on_commit(partial(suite_run_task.delay, run.pk))
    return run


def suite_run_claim(*, run_id: int) -> SuiteRun | None:
    """Queued → running, once (a redelivered task finds it taken and stops)."""
    claimed = SuiteRun.objects.filter(pk=run_id, status=SuiteRun.Status.QUEUED).update(
        status=SuiteRun.Status.RUNNING
    )
    return SuiteRun.objects.select_related("phase").get(pk=run_id) if claimed else None


def suite_result_record(
    *, run: SuiteRun, case: SuiteCase, passed: bool, actual: dict[str, Any], why: str
) -> CaseResult:
    with transaction.atomic():
        result = CaseResult.objects.create(
            run=run,
            case=case,
            messages=list(case.messages),
            expected=case_expected(case),
            passed=passed,
            actual=actual,
            why=why[:300],
        )
        SuiteRun.objects.filter(pk=run.pk).update(
            done=F("done") + 1, passed=F("passed") + int(passed)
        )
    return result


def suite_run_finish(*, run: SuiteRun, error: str = "") -> SuiteRun:
    run.refresh_from_db()
    run.status = SuiteRun.Status.FAILED if error else SuiteRun.Status.DONE
    run.error = error[:500]
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "error", "finished_at"])
    audit_log_write(
        workspace=run.workspace,
        actor=None,
        actor_label="suite",
        action="rollout.suite_result",
        target=run,
        details={
            "plan_id": run.phase.plan_id,
            "phase": run.phase.name,
            "passed": run.passed,
            "total": run.total,
            "error": run.error,
        },
    )
    return run


def case_expected(case: SuiteCase) -> dict[str, Any]:
    return {
        "expect": case.expect,
        "article": case.article,
        "trigger": case.trigger,
        "category": case.category,
    }
