"""The documentation agrees with the tool: every `sim2real ...` command line in the README and
docs/ names a command the tool has and only options that command takes, and a page that says a
command has no option is right about it."""

import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def command_lines(text: str) -> list[str]:
    """What follows `sim2real ` in shell blocks (continuation lines joined) and in code spans."""
    found = []
    fences = r"^ *```(\w*)\n(.*?)^ *```"
    for language, block in re.findall(fences, text, re.S | re.M):
        if language in ("", "bash", "sh", "shell", "console"):
            found += block.replace("\\\n", " ").splitlines()
    prose = re.sub(fences, "", text, flags=re.S | re.M)
    found += [span for span in re.findall(r"`([^`\n]+)`", prose) if span.startswith("sim2real ")]
    return [" ".join(match.group(1).split(" #")[0].split()) for line in found
            if (match := re.search(r"(?:^|[\s/])sim2real ([a-z].*)", line))]  # fmt: skip


def tool():
    import typer

    from sim2real.cli.main import app

    return typer.main.get_command(app)


def resolve(tokens: list[str]):
    """(the command the leading tokens name, its path), walking sub-command groups."""
    command, path = tool(), []
    for token in tokens:
        if not (hasattr(command, "commands") and token in command.commands):
            break
        command, path = command.commands[token], [*path, token]
    return command, path


def option_names(command) -> set[str]:
    return {"--help"} | {name for param in command.params for name in (*param.opts, *param.secondary_opts)}


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_documented_command_lines_use_options_the_tool_has(page):
    wrong = []
    for line in command_lines(page.read_text()):
        try:  # placeholders such as [--workers K] are optional options: keep the option
            tokens = shlex.split(line.replace("[", " ").replace("]", " "))
        except ValueError:
            tokens = line.split()
        command, path = resolve(tokens)
        if not path:
            wrong.append(f"no command: sim2real {line}")
            continue
        known = option_names(command)
        wrong += [f"sim2real {' '.join(path)} has no {option}: {line}"
                  for token in tokens if (option := re.match(r"--[a-z0-9][a-z0-9-]*", token))
                  and (option := option.group(0)) not in known]  # fmt: skip
    assert wrong == []


def false_absences(text: str) -> list[str]:
    """Claims "`sim2real CMD` has no `--OPTION`" where CMD does take --OPTION (or is no command)."""
    wrong = []
    for words, option in re.findall(r"`sim2real ([a-z ]+)` (?:has|takes) no `(--[a-z0-9-]+)`", text):
        command, path = resolve(words.split())
        if path != words.split() or option in option_names(command):
            wrong.append(f"sim2real {words} / {option}")
    return wrong


@pytest.mark.parametrize("page", PAGES, ids=[page.name for page in PAGES])
def test_a_page_saying_a_command_lacks_an_option_is_right(page):
    assert false_absences(page.read_text()) == []


def test_the_readers_find_what_they_look_for():
    """The tests above read what they should: a block with a continuation, a code span, and the
    sentence docs/randomization.md once had (`sim2real expert` has had --randomize all along)."""
    text = ("Run\n```bash\nsim2real render --task click_bell \\\n    --config f.yaml  # the file\n```\n"
            "or `sim2real expert --randomize all`.")
    assert command_lines(text) == ["render --task click_bell --config f.yaml",
                                   "expert --randomize all"]
    old = "`sim2real expert` has no `--randomize` option; the randomized numbers run the same"
    assert false_absences(old) == ["sim2real expert / --randomize"]
    assert false_absences("`sim2real expert` has no `--fidelity-list`") == []
