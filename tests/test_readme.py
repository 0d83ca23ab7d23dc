"""Every code block in README.md runs here, so the documentation cannot rot.

The rules, by the fence's language:

- ``python``: written to a file and run with this interpreter.
- ``bash``: run with ``bash -e``, each line on its own, except two kinds of command that
  are checked instead of run, because running them here would change the environment or
  recurse: ``pip install`` (its extras must exist in pyproject.toml) and the test command
  (it must be the very line .ci/run runs). ``BOOSTOBJ_QUICK=1`` is set, so ``boostobj
  demo`` runs its quick variant.
- ``text``: output shown to the reader, not run.
- a second word ``gpu`` (```` ```python gpu ````): run only where ``nvidia-smi`` finds a GPU.

All the blocks of one ``##`` section run in order, each in its own process, in one fresh
temporary directory: a block is self-contained apart from the files that earlier blocks
of its section wrote there. Each section gets one test and a time limit.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from importlib.metadata import metadata
from pathlib import Path

import pytest

from boostobj.base import Loss

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
RUN_LANGUAGES = {"python", "bash"}
SHOWN_LANGUAGES = {"text"}
SECTION_TIMEOUT_S = 300
FENCE = re.compile(r"^```(?P<info>[^\n`]*)\n(?P<code>.*?)^```\s*$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Block:
    section: str
    language: str
    tags: tuple[str, ...]
    code: str
    line: int


def _sections() -> dict[str, str]:
    """Body of each ``##`` section of the README, by title (the preamble is ``""``)."""
    parts = re.split(r"^## +(.+)$", README.read_text(encoding="utf-8"), flags=re.MULTILINE)
    sections = {"": parts[0]}
    sections.update(zip(parts[1::2], parts[2::2], strict=True))
    return sections


def _blocks() -> list[Block]:
    text = README.read_text(encoding="utf-8")
    blocks = []
    for title, body in _sections().items():
        offset = text.index(body)
        for match in FENCE.finditer(body):
            language, *tags = match["info"].split() or [""]
            line = text.count("\n", 0, offset + match.start()) + 1
            blocks.append(Block(title, language, tuple(tags), match["code"], line))
    return blocks


def _ci_test_command() -> str:
    """The line of .ci/run after its ``# The README's test command:`` comment."""
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    return lines[lines.index("# The README's test command:") + 1]


def _check_pip_install(command: str) -> None:
    """A ``pip install`` of this package must name extras that it declares."""
    extras = set(metadata("boostobj").get_all("Provides-Extra") or [])
    for word in shlex.split(command):
        requested = re.fullmatch(r"\.\[(.+)\]", word)
        if requested:
            unknown = set(requested[1].split(",")) - extras
            assert not unknown, f"{command!r} names undeclared extras {unknown}"


def _is_pip_install(command: str) -> bool:
    return bool(re.match(r"^(python3? -m )?pip install\b", command))


def _has_gpu() -> bool:
    if shutil.which("nvidia-smi") is None:
        return False
    return subprocess.run(["nvidia-smi", "-L"], capture_output=True).returncode == 0


def _run_bash(block: Block, cwd: Path, env: dict[str, str], timeout: float) -> None:
    test_command = _ci_test_command()
    for line in block.code.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line == test_command:  # the test command: checked against .ci/run, not run
            _check_pip_install(line.split("&&")[0])
            continue
        if "pytest" in line:
            pytest.fail(f"README.md:{block.line}: {line!r} is not .ci/run's {test_command!r}")
        commands = [part.strip() for part in line.split("&&")]
        for command in commands:
            if _is_pip_install(command):
                _check_pip_install(command)
            else:
                _run(["bash", "-e", "-c", command], block, cwd, env, timeout)


def _run(argv: list[str], block: Block, cwd: Path, env: dict[str, str], timeout: float) -> None:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (
        f"README.md:{block.line} ({block.section}) failed with status {done.returncode}\n"
        f"--- code\n{block.code}--- stdout\n{done.stdout[-3000:]}--- stderr\n{done.stderr[-3000:]}"
    )


BLOCKS = _blocks()
RUN_SECTIONS = sorted({b.section for b in BLOCKS if b.language in RUN_LANGUAGES})


def test_every_block_has_a_known_language() -> None:
    unknown = [
        f"README.md:{b.line}: {b.language or '(none)'}"
        for b in BLOCKS
        if b.language not in RUN_LANGUAGES | SHOWN_LANGUAGES
    ]
    assert not unknown, "code blocks must be python, bash or text: " + ", ".join(unknown)


def test_readme_shows_the_ci_test_command() -> None:
    assert any(_ci_test_command() in b.code for b in BLOCKS if b.language == "bash")


@pytest.mark.parametrize("section", RUN_SECTIONS)
def test_section_runs(section: str, tmp_path: Path) -> None:
    # One OpenMP thread: on a few shared cores, boosters' threads mostly wait for each other.
    env = {**os.environ, "BOOSTOBJ_QUICK": "1", "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1"}
    # The console script lives next to this interpreter: put it first on the path.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    for index, block in enumerate(b for b in BLOCKS if b.section == section):
        if block.language not in RUN_LANGUAGES:
            continue
        if "gpu" in block.tags and not _has_gpu():
            continue
        if block.language == "python":
            script = tmp_path / f"readme_block_{index}.py"
            script.write_text(block.code)
            _run([sys.executable, script.name], block, tmp_path, env, SECTION_TIMEOUT_S)
        else:
            _run_bash(block, tmp_path, env, SECTION_TIMEOUT_S)


# ------------------------------------------------------------------ losses table
def _losses_table() -> list[list[str]]:
    """Rows of the table in "The losses", as lists of cell texts (``\\|`` unescaped)."""
    rows = []
    for line in _sections()["The losses"].splitlines():
        if line.startswith("|") and not re.match(r"^\|\s*:?-", line):
            cells = re.split(r"(?<!\\)\|", line.strip())[1:-1]
            rows.append([cell.strip().replace("\\|", "|") for cell in cells])
    return rows[1:]  # without the header


def _normalized(text: str) -> str:
    return " ".join(text.split())


def _registry_name(first_cell: str) -> str:
    """The loss's ``name``: the last code span of the first cell, e.g. ``(`logcosh`)``."""
    return re.findall(r"`([^`]+)`", first_cell)[-1]


def test_losses_table_lists_every_loss() -> None:
    names = [_registry_name(row[0]) for row in _losses_table()]
    assert sorted(names) == sorted(Loss.registry)


def test_losses_table_formulas_match_the_docstrings() -> None:
    """Every code span in the formula, gradient and Hessian columns is quoted from the
    loss's docstring."""
    for first_cell, *cells in _losses_table():
        name = _registry_name(first_cell)
        docstring = _normalized(Loss.registry[name].__doc__)
        spans = [span for cell in cells[:3] for span in re.findall(r"`([^`]+)`", cell)]
        assert spans, f"row {name} quotes no formula"
        for span in spans:
            assert _normalized(span) in docstring, f"{name}: {span!r} is not in its docstring"


def test_oldest_versions_are_the_declared_lower_bounds() -> None:
    """.ci/oldest.txt pins each dependency, runtime and of every extra, at pyproject.toml's
    lower bound, so the first CI run tests exactly the bounds the package declares."""
    with (ROOT / "pyproject.toml").open("rb") as file:
        project = tomllib.load(file)["project"]
    extras = project["optional-dependencies"].values()
    requirements = project["dependencies"] + [r for extra in extras for r in extra]
    bounds = set()
    for requirement in requirements:
        match = re.fullmatch(r"([\w-]+)(?:\[[\w,]+\])?>=([\d.]+)(?:,<[\d.]+)?", requirement)
        assert match, f"{requirement!r} has no lower bound of the form name>=version"
        bounds.add(match.groups())
    names = [name for name, _ in bounds]
    assert len(names) == len(set(names)), f"extras disagree on a lower bound: {sorted(bounds)}"
    lines = (ROOT / ".ci" / "oldest.txt").read_text().splitlines()
    pins = dict(line.split("==") for line in lines if line and not line.startswith("#"))
    assert pins.keys() == set(names)
    for name, bound in bounds:
        pinned = pins[name].split(".")
        assert pinned[: len(bound.split("."))] == bound.split("."), (name, bound, pins[name])
