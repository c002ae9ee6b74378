"""baton.yaml: the example loads, the default runs anywhere, mistakes are told plainly."""

from __future__ import annotations

from datetime import date, time, timedelta
from pathlib import Path

import pytest

from bot.config import (
    Config,
    ConfigDirectory,
    ConfigError,
    Notify,
    Reassign,
    WeeklyTime,
    default_config,
    load_config,
)
from bot.items import Kind, Priority
from bot.people import Identity, SlaTargets

EXAMPLE = Path(__file__).resolve().parents[2] / "baton.example.yaml"


def write(tmp_path: Path, text: str, name: str = "baton.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value)


# --- the example and the default ---------------------------------------------------------


def test_example_file_loads() -> None:
    config = load_config(EXAMPLE)
    assert list(config.teams) == ["ml-platform", "eval", "release", "legal"]
    assert config.default_team == "ml-platform"
    assert len(config.people) == 10
    assert config.admins == ("alice",)
    assert config.teams["ml-platform"].lead == "priya"
    assert config.team_zone("eval") == "America/New_York"
    hours = config.hours("release")
    assert hours is not None
    assert (hours.days, hours.start, hours.end) == ((0, 1, 2, 3, 4), time(9), time(17, 30))
    assert hours.holidays is not None and hours.holidays.country == "GB"
    assert hours.holidays.subdivision == "ENG"
    assert date(2026, 12, 24) in hours.extra and not hours.works_on(date(2026, 12, 24))
    assert config.digests("release").daily == time(9)
    assert config.digests("release").weekly == WeeklyTime(0, time(9))
    assert config.digests("legal").weekly is None
    chain = config.escalation("release")
    assert [(s.after, s.notify) for s in chain[:3]] == [
        (timedelta(0), Notify.OWNER), (timedelta(hours=1), Notify.LEAD),
        (timedelta(hours=4), Notify.CHANNEL)]
    assert chain[1].reassign_to is Reassign.LEAD
    assert (chain[3].notify, chain[3].person) == (Notify.PERSON, "alice")
    assert config.business_hours("eval") == config.hours("eval")  # standard: business hours
    assert config.business_hours("ml-platform") is None  # oncall: 24x7


def test_no_file_gives_the_builtin_default(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = load_config(None)
    assert config == default_config()
    assert list(config.teams) == ["general"]
    team = config.teams["general"]
    assert team.open and team.lead is None and team.hours is None
    assert config.defaults.time_zone == "UTC"
    assert config.digests("general").daily is None and config.digests("general").weekly is None
    assert config.targets("general", Kind.HANDOFF, Priority.URGENT) == SlaTargets(
        timedelta(minutes=15), timedelta(hours=4), 0.75)
    assert config.targets("general", Kind.APPROVAL, Priority.LOW) == SlaTargets(
        timedelta(days=1), timedelta(weeks=1), 0.75)
    assert config.business_hours("general") is None


def test_no_path_reads_baton_yaml_in_the_working_directory(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "teams:\n  ops: {}\n")
    monkeypatch.chdir(tmp_path)
    assert list(load_config(None).teams) == ["ops"]


def test_empty_file_is_the_default(tmp_path: Path) -> None:
    assert load_config(write(tmp_path, "# nothing yet\n")) == default_config()


def test_unquoted_clock_times_and_country_no_stay_text(tmp_path: Path) -> None:
    # YAML 1.1 reads 17:30 as the number 1050 and NO as false; baton.yaml reads them as written.
    path = write(tmp_path, "teams:\n  ops:\n    hours: {start: 8:30, end: 17:30,"
                           " holidays: {country: NO}}\n    digests: {daily: 9:00}\n")
    config = load_config(path)
    hours = config.hours("ops")
    assert hours is not None and (hours.start, hours.end) == (time(8, 30), time(17, 30))
    assert hours.holidays is not None and hours.holidays.country == "NO"
    assert config.digests("ops").daily == time(9)


def test_days_accepts_a_range(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "teams:\n  ops:\n    hours: {days: sun-thu}\n"))
    hours = config.hours("ops")
    assert hours is not None and hours.days == (0, 1, 2, 3, 6)


# --- mistakes: one line each, with the file and the dotted path ----------------------------

MISTAKES = [
    pytest.param(
        "teams:\n  ml-platform:\n    lede: priya\n",
        "teams.ml-platform.lede: expected a known key (channels, digests, escalation, hours, "
        "lead, members, open, sla, time_zone), got 'lede' (did you mean lead?)",
        id="typo-key"),
    pytest.param(
        "team:\n  ops: {}\n",
        "team: expected a known key (admins, defaults, escalation_chains, people, sla_policies, "
        "teams, workspace), got 'team' (did you mean teams?)",
        id="typo-section"),
    pytest.param(
        "people:\n  bob: {time_zone: Europe/Londn}\n",
        "people.bob.time_zone: expected an IANA time zone like Europe/London, "
        "got 'Europe/Londn'",
        id="bad-time-zone"),
    pytest.param(
        "people:\n  priya: {}\nteams:\n  ml-platform: {lead: pria}\n",
        "teams.ml-platform.lead: expected a person listed under people, got 'pria' "
        "(did you mean priya?)",
        id="unknown-lead"),
    pytest.param(
        "people:\n  priya: {}\nteams:\n  eval: {members: [priya, mallory]}\n",
        "teams.eval.members[1]: expected a person listed under people, got 'mallory'",
        id="unknown-member"),
    pytest.param(
        "teams:\n  eval: {escalation: pager}\n",
        "teams.eval.escalation: expected one of the escalation_chains (default), got 'pager'",
        id="missing-chain"),
    pytest.param(
        "teams:\n  eval: {sla: gold}\n",
        "teams.eval.sla: expected one of the sla_policies (default), got 'gold'",
        id="missing-policy"),
    pytest.param(
        "escalation_chains:\n  default:\n    - {after: soon, notify: owner}\n",
        "escalation_chains.default[0].after: expected a duration like 30m, 4h, 2d or 1h30m, "
        "got 'soon'",
        id="bad-duration"),
    pytest.param(
        "teams:\n  ml-platform:\n    hours: {start: 9am}\n",
        "teams.ml-platform.hours.start: expected a time like 09:00, got '9am'",
        id="bad-time"),
    pytest.param(
        "teams:\n  eval:\n    hours: {start: '17:00', end: '09:00'}\n",
        "teams.eval.hours.end: expected a time after start (17:00), got '09:00'",
        id="start-after-end"),
    pytest.param(
        "escalation_chains:\n  default:\n    - {after: 0m, notify: owner}\n"
        "    - {after: 1h, notify: person}\n",
        "escalation_chains.default[1].person: expected a person's handle when notify or "
        "reassign_to is person, got nothing",
        id="notify-person-without-person"),
    pytest.param(
        "escalation_chains:\n  default:\n    - {after: 0m, notify: boss}\n",
        "escalation_chains.default[0].notify: expected one of owner, lead, person or channel, "
        "got 'boss'",
        id="bad-notify"),
    pytest.param(
        "sla_policies:\n  default:\n    warn_at: 1.5\n"
        "    targets: {default: {default: {ack: 1h, resolve: 1d}}}\n",
        "sla_policies.default.warn_at: expected a fraction between 0 and 1 like 0.75, got 1.5",
        id="warn-at-out-of-range"),
    pytest.param(
        "teams:\n  eval:\n    hours: {days: [mon, funday]}\n",
        "teams.eval.hours.days[1]: expected a weekday (mon, tue, wed, thu, fri, sat, sun), "
        "got 'funday'",
        id="unknown-weekday"),
    pytest.param(
        "teams:\n  eval:\n    digests: {weekly: monday}\n",
        "teams.eval.digests.weekly: expected a weekday and time like mon 09:00, got 'monday'",
        id="bad-weekly-digest"),
    pytest.param(
        "sla_policies:\n  default:\n    targets: {default: {urgent: {ack: 1h, resolve: 4h}}}\n",
        "sla_policies.default.targets: expected a target for every kind and priority (add a "
        "default entry), got none for handoff/high, handoff/normal, handoff/low and 6 more",
        id="targets-not-covered"),
    pytest.param(
        "sla_policies:\n  default:\n    targets: {handof: {default: {ack: 1h, resolve: 1d}}}\n",
        "sla_policies.default.targets.handof: expected one of handoff, exception, approval or "
        "default, got 'handof'",
        id="unknown-kind"),
    pytest.param(
        "sla_policies:\n  default:\n    targets: {default: {default: {ack: 1h}}}\n",
        "sla_policies.default.targets.default.default.resolve: expected a value (this key is "
        "required), got nothing",
        id="missing-resolve"),
    pytest.param(
        "admins: [root]\npeople:\n  alice: {}\n",
        "admins[0]: expected a person listed under people, got 'root'",
        id="unknown-admin"),
    pytest.param(
        "people:\n  alice: {}\nescalation_chains:\n  default:\n"
        "    - {after: 1h, notify: person, person: bobby}\n",
        "escalation_chains.default[0].person: expected a person listed under people, "
        "got 'bobby'",
        id="unknown-escalation-person"),
    pytest.param(
        "escalation_chains:\n  default:\n    - {after: 4h, notify: owner}\n"
        "    - {after: 1h, notify: lead}\n",
        "escalation_chains.default[1].after: expected steps in order, no earlier than 4h, "
        "got '1h'",
        id="steps-out-of-order"),
    pytest.param(
        "people:\n  alice: {slack: U012ABC}\n  bob: {slack: U012ABC}\n",
        "people.bob.slack: expected an id of this person only (it is alice's), got 'U012ABC'",
        id="slack-id-twice"),
    pytest.param(
        "people:\n  Alice: {}\n  alice: {}\n",
        "people: expected each name once (names ignore case), got 'Alice' and 'alice'",
        id="handle-twice-by-case"),
    pytest.param(
        "teams:\n  eval: {hours: 9-5}\n",
        "teams.eval.hours: expected 24x7 or a mapping with days, start and end, got '9-5'",
        id="bad-hours"),
    pytest.param(
        "teams:\n  eval: {members: bob}\n",
        "teams.eval.members: expected a list, got 'bob'",
        id="members-not-a-list"),
    pytest.param(
        "teams:\n  eval:\n    hours: {extra: [2026-13-01]}\n",
        "teams.eval.hours.extra[0]: expected a date like 2026-12-24, got '2026-13-01'",
        id="bad-date"),
    pytest.param(
        "- teams\n- people\n",
        "expected a mapping of sections (workspace, admins, defaults, people, teams, "
        "sla_policies, escalation_chains) at the top level, got a list",
        id="top-level-list"),
    pytest.param(
        "teams:\n  eval:\n    lead: bob\n   members: [carol]\n",
        "line 4, column 4: invalid YAML: expected <block end>, but found "
        "'<block mapping start>'",
        id="yaml-syntax"),
    pytest.param(
        "teams:\n  eval: {}\n  eval: {}\n",
        "line 3, column 3: invalid YAML: found duplicate key 'eval'",
        id="yaml-duplicate-key"),
]


@pytest.mark.parametrize(("text", "message"), MISTAKES)
def test_mistake_is_one_line_naming_file_and_path(tmp_path: Path, text: str,
                                                   message: str) -> None:
    path = write(tmp_path, text)
    assert error_of(path) == f"{path}: {message}"


def test_each_problem_gets_its_own_line(tmp_path: Path) -> None:
    path = write(tmp_path, "defaults: {time_zone: Mars/Olympus}\n"
                           "teams:\n  eval: {hours: {start: noon}, sla: 7}\n")
    assert error_of(path).splitlines() == [
        f"{path}: defaults.time_zone: expected an IANA time zone like Europe/London, "
        "got 'Mars/Olympus'",
        f"{path}: teams.eval.hours.start: expected a time like 09:00, got 'noon'",
        f"{path}: teams.eval.sla: expected a name like ml-platform (a letter, then letters, "
        "digits, - _ .), got 7",
    ]


def test_explicit_missing_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    assert error_of(path) == (
        f"{path}: no such file (unset BATON_CONFIG, or point it at a baton.yaml, to use the "
        "built-in defaults)")


def test_config_built_in_code_is_checked_too() -> None:
    with pytest.raises(ConfigError, match=r"^baton.yaml: teams.ops.lead: expected a person"):
        Config.model_validate({"people": {"alice": {}}, "teams": {"ops": {"lead": "bob"}}})


# --- the directory -------------------------------------------------------------------------


@pytest.fixture
def directory() -> ConfigDirectory:
    return ConfigDirectory(load_config(EXAMPLE))


def test_person_by_handle_any_case_and_mention(directory: ConfigDirectory) -> None:
    priya = directory.person("priya")
    assert priya is not None
    assert (priya.id, priya.name, priya.time_zone) == ("priya", "Priya Sharma", "Asia/Kolkata")
    assert directory.person("Priya") == priya
    assert directory.person("@PRIYA") == priya


def test_person_by_slack_id_teams_id_and_email(directory: ConfigDirectory) -> None:
    alice = directory.person("U01ALICE01")
    assert alice is not None and alice.id == "alice" and alice.time_zone == "Europe/London"
    grace = directory.person("8d2e6b1c-4a7f-4c0e-b5d3-2f9a1e7c6b42")
    assert grace is not None and grace.id == "grace"
    frank = directory.person("Frank@Example.com")
    assert frank is not None and frank.id == "frank"


def test_unknown_person_is_none_when_people_are_listed(directory: ConfigDirectory) -> None:
    assert directory.person("mallory") is None
    assert directory.person("U0NOBODY1") is None


def test_open_directory_accepts_any_wellformed_handle() -> None:
    directory = ConfigDirectory(default_config())
    someone = directory.person("@Zoe")
    assert someone is not None and (someone.id, someone.name, someone.time_zone) == (
        "zoe", "zoe", "UTC")
    slack_user = directory.person("U012ABC")
    assert slack_user is not None and slack_user.id == "U012ABC"  # platform ids keep case
    assert directory.person("not a handle") is None
    assert directory.person("") is None


def test_teams_and_default_team(directory: ConfigDirectory) -> None:
    assert [t.name for t in directory.teams()] == ["ml-platform", "eval", "release", "legal"]
    assert directory.default_team() == "ml-platform"
    team = directory.team("#ML-Platform")
    assert team is not None
    assert (team.lead, team.members, team.time_zone, team.open) == (
        "priya", ("bob", "heidi", "ivan"), "Europe/London", False)
    assert directory.team("marketing") is None
    assert [t.name for t in directory.teams_of("U01HEIDI08")] == ["ml-platform", "release"]
    assert directory.home_team("alice") == "release"  # she leads it


def test_a_teams_channel_on_each_surface() -> None:
    legal = ConfigDirectory(load_config(EXAMPLE)).team("legal")
    assert legal is not None and legal.channel("teams") == "19:legal@thread.tacv2"
    assert legal.channel("slack") == legal.channels.get("slack", "")
    assert legal.channel("console") == ""  # the console names teams itself


def test_accounts_are_matched_by_id_then_email_and_added_only_when_open() -> None:
    listed = ConfigDirectory(load_config(EXAMPLE))
    heidi = listed.learn(Identity("slack", "U01HEIDI08", "H", "h@x.example", "Asia/Tokyo"))
    assert heidi is not None and heidi.id == "heidi"
    by_mail = listed.learn(Identity("teams", "aad-1", "Bob B", "BOB@example.com"))
    bob = listed.person("bob")
    assert by_mail is not None and bob is not None and by_mail.id == "bob"
    assert listed.person("aad-1") == bob and listed.account("bob", "teams") == "aad-1"
    assert listed.learn(Identity("slack", "U0STRANGER", "Zed", "zed@else.example")) is None
    open_dir = ConfigDirectory(default_config())
    zed = open_dir.learn(Identity("slack", "U0ZED", "Zed", "zed@else.example", "Asia/Tokyo"))
    assert zed is not None and (zed.id, zed.name, zed.time_zone) == ("U0ZED", "Zed", "Asia/Tokyo")
    same = open_dir.learn(Identity("teams", "aad-zed", "Zed Z", "ZED@else.example"))
    assert same is not None and same.id == "U0ZED"  # one person on both surfaces, by e-mail
    assert open_dir.account("U0ZED", "teams") == "aad-zed"
    assert open_dir.account("U0ZED", "slack") == "U0ZED"


def test_default_directory() -> None:
    directory = ConfigDirectory(default_config())
    general = directory.team("general")
    assert general is not None and general.open and general.lead is None
    assert directory.default_team() == "general"
    assert not directory.is_admin("anyone")


def test_admins(directory: ConfigDirectory) -> None:
    assert directory.is_admin("alice")
    assert directory.is_admin("U01ALICE01")
    assert not directory.is_admin("bob")
    assert not directory.is_admin("mallory")


def test_sla_falls_back_to_default_kind_then_default_priority(
        directory: ConfigDirectory) -> None:
    # eval uses `standard`: approval has urgent and default; other kinds use default.
    assert directory.sla("eval", Kind.APPROVAL, Priority.URGENT) == SlaTargets(
        timedelta(hours=2), timedelta(hours=4), 0.75)
    assert directory.sla("eval", Kind.APPROVAL, Priority.LOW) == SlaTargets(
        timedelta(days=1), timedelta(days=2), 0.75)
    assert directory.sla("eval", Kind.HANDOFF, Priority.HIGH) == SlaTargets(
        timedelta(hours=4), timedelta(days=2), 0.75)
    assert directory.sla("release", Kind.EXCEPTION, Priority.LOW) == SlaTargets(
        timedelta(days=1), None, 0.5)


def test_sla_of_a_team_no_longer_listed_is_the_default_teams(
        directory: ConfigDirectory) -> None:
    assert directory.sla("gone", Kind.HANDOFF, Priority.URGENT) == directory.sla(
        "ml-platform", Kind.HANDOFF, Priority.URGENT)


def test_team_without_sla_has_no_targets(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, "teams:\n  ops: {sla: null, escalation: null}\n"))
    assert ConfigDirectory(config).sla("ops", Kind.HANDOFF, Priority.URGENT) == SlaTargets(
        None, None)
    assert config.escalation("ops") == ()


def test_user_policy_replaces_builtin_default(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, (
        "sla_policies:\n  default:\n    business_hours: false\n    warn_at: 80%\n"
        "    targets: {default: {default: {ack: 1h30m, resolve: 2d}}}\n")))
    assert config.targets("general", Kind.HANDOFF, Priority.LOW) == SlaTargets(
        timedelta(minutes=90), timedelta(days=2), 0.8)


# --- hostile or unlucky files: one line each, nothing read past what is needed ---------------


@pytest.mark.parametrize(("text", "path", "message"), [
    ("teams:\n  eval:\n    hours: {holidays: {country: ZZ}}\n",
     "teams.eval.hours.holidays.country",
     "expected a country code the holidays library knows, like GB or US, got 'ZZ'"),
    ("teams:\n  eval:\n    hours: {holidays: {country: GB, subdivision: XX}}\n",
     "teams.eval.hours.holidays.subdivision",
     "expected one of GB's subdivisions (ENG, NIR, SCT, WLS), got 'XX'"),
], ids=["country", "subdivision"])
def test_holidays_the_library_does_not_know_are_refused_by_the_schema(
        tmp_path: Path, text: str, path: str, message: str) -> None:
    """Checked when the file is read (check-config), not when serve builds the calendars."""
    config_file = write(tmp_path, text, name="other-name.yaml")
    assert error_of(config_file) == f"{config_file}: {path}: {message}"


def test_every_problem_of_a_file_is_told_in_one_run(tmp_path: Path) -> None:
    path = write(tmp_path, (
        "people:\n  priya: {}\n  bob: {time_zone: Mars/Olympus}\n"
        "teams:\n"
        "  eval:\n    lead: pria\n    members: [priya, mallory]\n"
        "    hours: {start: noon, holidays: {country: ZZ}}\n    sla: gold\n"
        "  eval: {}\n"
        "escalation_chains:\n  default:\n    - {after: 4h, notify: owner}\n"
        "    - {after: 1h, notify: lead}\n    - {after: 5h, notify: boss}\n"), "mine.yaml")
    assert error_of(path).splitlines() == [f"{path}: {line}" for line in [
        "line 10, column 3: invalid YAML: found duplicate key 'eval'",
        "people.bob.time_zone: expected an IANA time zone like Europe/London, "
        "got 'Mars/Olympus'",
        "escalation_chains.default[2].notify: expected one of owner, lead, person or channel, "
        "got 'boss'",
        "escalation_chains.default[1].after: expected steps in order, no earlier than 4h, "
        "got '1h'",
    ]]


def test_field_and_reference_problems_are_told_together(tmp_path: Path) -> None:
    path = write(tmp_path, (
        "people:\n  priya: {}\n  bob: {time_zone: Mars/Olympus}\n"
        "admins: [root]\n"
        "teams:\n"
        "  eval:\n    lead: pria\n    members: [priya, mallory]\n"
        "    hours: {start: noon, holidays: {country: ZZ}}\n    sla: gold\n"))
    assert error_of(path).splitlines() == [f"{path}: {line}" for line in [
        "people.bob.time_zone: expected an IANA time zone like Europe/London, "
        "got 'Mars/Olympus'",
        "teams.eval.hours.start: expected a time like 09:00, got 'noon'",
        "teams.eval.hours.holidays.country: expected a country code the holidays library "
        "knows, like GB or US, got 'ZZ'",
        "admins[0]: expected a person listed under people, got 'root'",
        "teams.eval.lead: expected a person listed under people, got 'pria' "
        "(did you mean priya?)",
        "teams.eval.members[1]: expected a person listed under people, got 'mallory'",
        "teams.eval.sla: expected one of the sla_policies (default), got 'gold'",
    ]]


@pytest.mark.parametrize("text", [
    "teams: " + "[" * 5000 + "]" * 5000 + "\n",
    "teams:\n  x: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n",
    "teams:\n  x:\n    " + "- " * 5000 + "end\n",
], ids=["flow-lists", "flow-mappings", "block-lists"])
def test_deep_nesting_is_one_line(tmp_path: Path, text: str) -> None:
    path = write(tmp_path, text)
    message = error_of(path)
    assert len(message.splitlines()) == 1
    assert message.startswith(f"{path}: line ")
    assert message.endswith("invalid YAML: nested deeper than 64 levels")


def test_file_over_a_megabyte_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    big = write(tmp_path, "# padding\n" * 100_001)
    assert error_of(big) == (f"{big}: larger than 1 MB; a baton.yaml is far smaller (is "
                             "BATON_CONFIG the right file?)")
    # An endless file: reading it all would never end.
    assert error_of(Path("/dev/zero")) == ("/dev/zero: larger than 1 MB; a baton.yaml is far "
                                           "smaller (is BATON_CONFIG the right file?)")


def test_directory_unreadable_or_binary_path_is_one_line(tmp_path: Path) -> None:
    assert error_of(tmp_path) == f"{tmp_path}: is a directory, expected a baton.yaml file"
    # Opens, then fails to read (root reads any file its mode forbids, so use the kernel's).
    assert error_of(Path("/proc/self/mem")) == "/proc/self/mem: cannot be read: Input/output error"
    binary = tmp_path / "baton.yaml"
    binary.write_bytes(b"teams: \xff\n")
    assert error_of(binary) == f"{binary}: not UTF-8 text (byte 8 cannot be decoded)"


def test_aliases_may_share_a_value_but_not_blow_up_or_contain_themselves(tmp_path: Path) -> None:
    shared = write(tmp_path, "teams:\n  eval: {hours: &std {start: '08:00', end: '16:00'}}\n"
                             "  ops: {hours: *std}\n")
    config = load_config(shared)
    assert config.hours("eval") == config.hours("ops") is not None
    laughs = write(tmp_path, "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 9))
        + "teams: {eval: {members: *a8}}\n", "laughs.yaml")  # a billion values in 600 bytes
    assert error_of(laughs) == (f"{laughs}: line 6, column 5: invalid YAML: aliases expand this "
                                "value to more than 500,000 values")
    itself = write(tmp_path, "teams:\n  eval: &x {members: [*x]}\n", "itself.yaml")
    assert error_of(itself) == (f"{itself}: line 2, column 9: invalid YAML: an alias makes "
                                "this value contain itself")
