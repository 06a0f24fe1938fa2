"""Assignment and the readout's statistics, simulated.

N synthetic customers are assigned under a 50/50 plan by the product's keyed hash, then
assigned again (stickiness); then at least 1,000 simulated experiments each are judged by
the readout's own comparison: A/A judged once at the end, A/A judged every day for 30 days,
and A/B with a true 5-point lift in first-contact resolution at 5,000 conversations per
arm. Nothing touches the database.
"""

from __future__ import annotations

import hashlib
import json

from django.core.management.base import BaseCommand

from supportops.lib.commands import fail, print_json
from supportops.rollout.services import arm_of, bucket_of
from supportops.rollout.simulation import Scenario, detection_rate, planned_total_for

SHARE = 0.5
BASELINE = 0.60  # first-contact resolution of the control arm in the simulations
LIFT = 0.05
PER_ARM = 5000
MIN_EFFECT = 0.03  # what a phase plans for by default


class Command(BaseCommand):
    help = "Simulate sticky assignment and the readout's error rates and power."

    def add_arguments(self, parser):
        parser.add_argument("--customers", type=int, default=20_000)
        parser.add_argument("--runs", type=int, default=1000, help="experiments per scenario")
        parser.add_argument("--seed", type=int, default=14)
        parser.add_argument("--json", action="store_true")

    def handle(self, *args, **opts):
        if opts["customers"] < 1:
            fail(self, opts, "--customers must be at least 1")
        if opts["runs"] < 1:
            fail(self, opts, "--runs must be at least 1")
        # A key of its own per seed (as each workspace has one), so runs are repeatable.
        key = hashlib.sha256(f"rollout_simulate:{opts['seed']}".encode()).hexdigest()
        identities = [f"visitor:synthetic-{n}" for n in range(opts["customers"])]
        first = [
            arm_of(bucket=bucket_of(key=key, workspace_id=1, identity=i), control_share=SHARE)
            for i in identities
        ]
        again = [
            arm_of(bucket=bucket_of(key=key, workspace_id=1, identity=i), control_share=SHARE)
            for i in identities
        ]
        control = sum(arm == "human_only" for arm in first)
        planned = planned_total_for(BASELINE, MIN_EFFECT)
        runs, seed = opts["runs"], opts["seed"]
        null = Scenario(baseline=BASELINE, lift=0.0, per_arm=PER_ARM)
        lifted = Scenario(baseline=BASELINE, lift=LIFT, per_arm=PER_ARM)
        result = {
            "customers": len(identities),
            "configured": {"ai_first": 1 - SHARE, "human_only": SHARE},
            "shares": {
                "ai_first": (len(first) - control) / len(first),
                "human_only": control / len(first),
            },
            "stickiness": sum(a == b for a, b in zip(first, again, strict=True)) / len(first),
            "aa_false_positive_rate": detection_rate(
                null, runs=runs, every_day=False, seed=seed, planned_total=planned
            ),
            "peeking_false_positive_rate": detection_rate(
                null, runs=runs, every_day=True, seed=seed + 1, planned_total=planned
            ),
            "ab_power": detection_rate(
                lifted, runs=runs, every_day=False, seed=seed + 2, planned_total=planned
            ),
            "runs": runs,
            "method": {
                "test": "always-valid confidence sequence (mSPRT, normal mixture), alpha 0.05",
                "baseline_fcr": BASELINE,
                "lift": LIFT,
                "per_arm": PER_ARM,
                "days": 30,
                "planned_total": planned,
            },
        }
        if opts["json"]:
            print_json(result, self.stdout)
        else:
            self.stdout.write(json.dumps(result, indent=2))
