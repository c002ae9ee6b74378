"""What a new user sees in `baton chat` as `:time` moves on: a handoff's reminder, its breach,
the escalation to the lead and then to the channel, and the daily and weekly digests (a real
subprocess, a small baton.yaml, commands piped in)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CONFIG = """\
workspace: acme
defaults: {time_zone: UTC}
people:
  alice: {name: Alice}
  bob: {name: Bob}
  lena: {name: Lena}
teams:
  ops:
    lead: lena
    members: [alice, bob]
    channels: {console: "#ops"}
    sla: fast
    escalation: ladder
    digests: {daily: "09:00", weekly: "mon 09:00"}
sla_policies:
  fast:
    business_hours: false
    warn_at: 0.75
    targets:
      default:
        default: {ack: 4h, resolve: 2d}
escalation_chains:
  ladder:
    - {after: 0m, notify: owner}
    - {after: 1h, notify: lead}
    - {after: 4h, notify: channel}
"""

SCRIPT = """\
:time +{to_midnight}m
handoff @bob Rotate the API keys
:time +2h
:time +1h
:time +1h
:time +1h
:time +2h
:time +1h
show #1
digest --weekly
:time +1d
:quit
"""


def minutes_to_midnight() -> int:
    """The console's clock is real time plus `:time`: the script first moves it to just past
    midnight UTC, so the daily digest at 09:00 falls where the assertions expect it whatever
    the hour the test runs at."""
    now = datetime.now(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return int((midnight - now).total_seconds() // 60) + 1


def test_time_brings_reminder_breach_escalations_and_digests(tmp_path: Path) -> None:
    (tmp_path / "baton.yaml").write_text(CONFIG, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
    env |= {"BATON_CONFIG": str(tmp_path / "baton.yaml"),
            "BATON_DATABASE_URL": f"sqlite:///{tmp_path / 'baton.db'}",
            "BATON_DATA_DIR": str(tmp_path / "data"), "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-m", "baton.cli", "chat", "--as", "alice"],
                         input=SCRIPT.format(to_midnight=minutes_to_midnight()), env=env,
                         cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "Traceback" not in out + run.stderr
    blocks = out.split("alice> :time")
    assert len(blocks) == 9
    first, reminder, breach, lead, quiet, channel, _ = blocks[2:]
    assert "⏰" not in first  # two hours in: nothing due yet
    assert "⏰ Baton sent a reminder on #1" in reminder
    assert "✉ to @bob: ⏳ Reminder: #1 “Rotate the API keys” — acknowledgement due" in reminder
    assert "⏰ Baton flagged #1: acknowledgement target missed" in breach
    assert "✉ to @bob: 🚨 Escalation 1/3" in breach
    assert "⏰ Baton escalated #1: step 2 of 3, acknowledgement 1h overdue; told @lena." in lead
    assert "✉ to @lena: 🚨 Escalation 2/3" in lead
    assert "⏰" not in quiet  # seven hours in: the channel's turn is at eight
    assert "⏰ Baton escalated #1: step 3 of 3" in channel and "told #ops" in channel
    assert "  # ops: 🚨 Escalation 3/3: #1 “Rotate the API keys” is 4h past" in channel
    trail = channel.split("alice> show #1")[1]
    for action in ("remind", "breach", "escalate"):
        assert f"Baton {action}:" in trail
    assert "  # ops: #ops weekly digest" in channel
    assert "Escalations: 3 (▲3)" in channel
    assert "    📈 chart: " in channel
    charts = list((tmp_path / "data" / "charts").glob("weekly-acme-ops-*.png"))
    assert len(charts) == 1 and charts[0].read_bytes()[:4] == b"\x89PNG"
    last = out.split("alice> :time +1d")[1]
    assert "⏰ Daily digest of #ops posted." in last
    assert "  # ops: #ops blocker digest" in last
