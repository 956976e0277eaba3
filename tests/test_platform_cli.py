"""`sim2real platform admin|serve` refuse every mistake in one line naming the field, the value
and what is allowed, exit 2, before any work: no database file (nor its folder) is created by
a command that is refused, and a command that only reads or changes what is there refuses a
database that does not exist instead of creating an empty one."""

import sys

import pytest

from sim2real.cli.main import main

MISSING = "nowhere/platform.sqlite"  # below the test's folder: neither the file nor its folder exist


def sim2real(monkeypatch, capsys, *args: str) -> tuple[int, str, str]:
    """Run the real command line in this process (seconds for a dozen mistakes, not minutes)."""
    monkeypatch.setattr(sys, "argv", ["sim2real", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    captured = capsys.readouterr()
    return exit_.value.code, captured.out, captured.err


MISTAKES = [
    (("benchmark", "b", "--tasks", "nope"), "invalid tasks: 'nope'; allowed: beat_block_hammer, click_bell"),
    (("benchmark", "b", "--tasks", "click_bell,click_bell"), "invalid tasks: 'click_bell,click_bell'; allowed: each task once"),
    (("benchmark", "has space", "--tasks", "click_bell"), "invalid name: 'has space'; allowed: 1 to 64 letters"),
    (("benchmark", "b", "--tasks", "click_bell", "--kind", "moon"), "invalid kind: 'moon'; allowed: sim, real"),
    (("benchmark", "b", "--tasks", "click_bell", "--cameras", "eye"), "invalid cameras: 'eye'; allowed: head"),
    (("benchmark", "b", "--tasks", "click_bell", "--image-size", "4x4"), "invalid image_size: '4x4'"),
    (("benchmark", "b", "--tasks", "click_bell", "--image-size", "big"), "invalid image size: 'big'"),
    (("benchmark", "b", "--tasks", "click_bell", "--seed", "-1"), "invalid seed: -1; allowed: 0 <= seed < 2^31"),
    (("benchmark", "b", "--tasks", "click_bell", "--max-chunk", "0"), "invalid max_chunk: 0; allowed: 1 to 10000"),
    (("benchmark", "b", "--tasks", "click_bell", "--preset", "no-such-preset"), "preset"),
    (("user", "alice", "--per-day", "-1"), "invalid per_day: -1; allowed: 0 or more"),
    (("user", "alice", "--concurrent", "0"), "invalid concurrent: 0; allowed: 1 or more"),
    (("user", ""), "invalid name: ''; allowed: 1 to 64 characters"),
    (("station", "s", "--kind", "moon"), "invalid kind: 'moon'; allowed: sim, real"),
    (("station", "s", "--state", "broken"), "invalid state: 'broken'; allowed: active, maintenance"),
    (("station", "s", "--state", "maintenance"), f"invalid db: '{MISSING}'; allowed: an existing platform database"),
    (("token", "--scope", "root"), "invalid scope: 'root'; allowed: user, station, admin"),
    (("token", "--scope", "station"), "invalid station: '(none)'; allowed: the station a station token acts for"),
    (("token", "--scope", "user"), "invalid user: '(none)'"),
    (("token", "--scope", "user", "--user", "alice"), f"invalid db: '{MISSING}'; allowed: an existing"),
    (("revoke", "0"), "invalid token: 0; allowed: a token id"),
    (("revoke", "3"), f"invalid db: '{MISSING}'"),
    (("list",), f"invalid db: '{MISSING}'"),
    (("seed-baselines", "--benchmark", "b", "--no-expert"), "invalid baselines: '(none)'; allowed: the expert"),
    (("seed-baselines", "--benchmark", "b", "--vla", "nope.pt"), "invalid vla: 'nope.pt'; allowed: a reference VLA"),
    (("seed-baselines", "--benchmark", "b", "--vla", "ws://h"), "invalid policy: 'ws://h'; allowed: ws://HOST:PORT"),
    (("seed-baselines", "--benchmark", "has space"), "invalid name: 'has space'"),
    (("seed-baselines", "--benchmark", "b"), f"invalid db: '{MISSING}'"),
]


@pytest.mark.parametrize("args, message", MISTAKES, ids=[" ".join(a)[:40] for a, _ in MISTAKES])
def test_admin_mistakes_are_one_line_and_create_nothing(args, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code, out, err = sim2real(monkeypatch, capsys, "platform", "admin", *args, "--db", MISSING)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("error: "), err
    assert message in err, err
    assert list(tmp_path.iterdir()) == []  # no database, no folder for it


def test_databases_that_cannot_be_one(tmp_path, monkeypatch, capsys):
    (tmp_path / "folder").mkdir()
    (tmp_path / "a-file").write_text("not a folder")
    for db, message in ((str(tmp_path / "folder"), "(this is a folder)"),
                        (str(tmp_path / "a-file" / "p.sqlite"), "(a file is in the way)"),
                        ("mysql://h/db", "invalid database: 'mysql://h/db'")):
        code, out, err = sim2real(monkeypatch, capsys, "platform", "admin", "user", "alice", "--db", db)
        assert code == 2 and out == "" and len(err.strip().splitlines()) == 1 and message in err, err
        code, _, err = sim2real(monkeypatch, capsys, "platform", "serve", "--db", db, "--port", "1")
        assert code == 2 and message in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "folder"]
    assert list((tmp_path / "folder").iterdir()) == []


def test_a_created_database_then_refuses_a_second_user_of_the_same_name(tmp_path, monkeypatch, capsys):
    db = str(tmp_path / "platform.sqlite")
    code, out, _ = sim2real(monkeypatch, capsys, "platform", "admin", "user", "alice", "--db", db, "--json")
    assert code == 0 and '"name": "alice"' in out
    code, _, err = sim2real(monkeypatch, capsys, "platform", "admin", "user", "alice", "--db", db)
    assert code == 2 and "invalid name: 'alice'; allowed: a name no other user has" in err
    code, _, err = sim2real(monkeypatch, capsys, "platform", "admin", "token", "--scope", "user", "--user", "bob",
                            "--db", db)
    assert code == 2 and "invalid user: 'bob'" in err
    code, out, _ = sim2real(monkeypatch, capsys, "platform", "admin", "list", "--db", db, "--json")
    assert code == 0 and '"benchmarks": []' in out
