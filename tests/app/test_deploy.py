"""Every file in deploy/ works as shipped: the GitHub workflow's steps run as GitHub runs them (`bash -eo
pipefail`), the cron line and the systemd units' commands run by hand, all against the replica; the Hub
is a folder (the `paperset` the steps call is a shim that sends `--upload` and `pull` there)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT

pytestmark = pytest.mark.slow  # runs `paperset` end to end, several seconds a test (docs/testing.md)

DEPLOY = ROOT / "deploy"
DEAD_SITE = "http://127.0.0.1:1"

SHIM = """#!/usr/bin/env bash
# The deploy examples' paperset in a test: the real one against $SITE, with a folder for the Hub.
set -eo pipefail
echo "$*" >> "$SHIM_LOG"
case "$1" in
  run) shift; exec "$REAL_PAPERSET" run --base-url "$SITE" $EXTRA_RUN_FLAGS "$@" ;;
  pull)  # pull hf://datasets/OWNER/NAME --out ROOT
    name="${2##*/}"
    exec "$REAL_PAPERSET" publish "$FAKE_HUB/$name/$(cat "$FAKE_HUB/$name/LATEST")" --to "$4/$name" ;;
  publish)
    if [[ "$4" == hf://datasets/* ]]; then exec "$REAL_PAPERSET" publish "$2" --to "$FAKE_HUB/${4##*/}"; fi ;;
esac
exec "$REAL_PAPERSET" "$@"
"""


@dataclass
class Bench:
    """A workspace (the checkout of the workflow, or /srv/paperset), the fake Hub and the shim's log."""

    base: Path
    site: str
    workspace: Path = field(init=False)
    hub: Path = field(init=False)
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.hub = self.base / "hub"
        self.log = self.base / "shim.log"
        self.workspace = self.fresh_workspace("ws")

    def fresh_workspace(self, name: str) -> Path:
        workspace = self.base / name
        (workspace / ".venv/bin").mkdir(parents=True)
        shim = workspace / ".venv/bin/paperset"
        shim.write_text(SHIM, encoding="utf-8")
        shim.chmod(0o755)
        return workspace

    def env(self, **extra: str) -> dict[str, str]:
        # A dead site is given up on at once (no retries, no AutoThrottle delays) to keep the test short.
        flags = "-s RETRY_TIMES=0 -s AUTOTHROTTLE_ENABLED=False" if self.site == DEAD_SITE else ""
        return {**os.environ, "SHIM_LOG": str(self.log), "REAL_PAPERSET": str(ROOT / ".venv/bin/paperset"),
                "SITE": self.site, "FAKE_HUB": str(self.hub), "EXTRA_RUN_FLAGS": flags, **extra}

    def calls(self, command: str) -> list[list[str]]:
        lines = self.log.read_text(encoding="utf-8").splitlines() if self.log.exists() else []
        return [line.split() for line in lines if line.split()[0] == command]

    def uploads(self) -> list[list[str]]:
        return [c for c in self.calls("publish") if c[3].startswith("hf://datasets/") and "--upload" in c]


# --- GitHub Actions -----------------------------------------------------------------------------

WORKFLOW = yaml.safe_load((DEPLOY / "github-actions.yml").read_text(encoding="utf-8"))
_EXPR = re.compile(r"\$\{\{\s*([\w.-]+)\s*\}\}")
_COND = re.compile(r"^steps\.([\w-]+)\.outputs\.([\w-]+) (==|!=) '(.*)'$")


def _lookup(path: str, contexts: dict[str, Any]) -> str:
    value: Any = contexts
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return "" if value is None else str(value).lower() if isinstance(value, bool) else str(value)


def _expand(text: str, contexts: dict[str, Any]) -> str:
    return _EXPR.sub(lambda m: _lookup(m.group(1), contexts), str(text))


def _cache_paths(step: dict[str, Any]) -> list[str]:
    return [line.strip() for line in step["with"]["path"].splitlines() if line.strip()]


@dataclass
class JobResult:
    failed_step: str | None
    ran: list[str]
    outputs: dict[str, dict[str, str]]


def run_job(bench: Bench, workspace: Path, *, fresh: bool) -> JobResult:
    """Run the job's steps as GitHub does: `run:` through `bash --noprofile --norc -eo pipefail` with the
    workflow's, job's and step's env, `if:` on earlier steps' outputs, stop at the first failure. `uses:`
    steps are GitHub's (the test restores and saves the cache itself); `make setup` is the venv (the shim)."""
    job = WORKFLOW["jobs"]["crawl"]
    assert WORKFLOW["defaults"]["run"]["shell"] == "bash"
    contexts: dict[str, Any] = {"github": {"repository_owner": "someone", "run_id": "7", "run_attempt": "1"},
                                "secrets": {"HF_TOKEN": ""}, "inputs": {"fresh": fresh} if fresh else {},
                                "steps": {}}
    base_env = {k: _expand(v, contexts) for k, v in {**WORKFLOW.get("env", {}), **job.get("env", {})}.items()}
    ran: list[str] = []
    for number, step in enumerate(job["steps"]):
        if "run" not in step or step["run"].strip() == "make setup":
            continue
        name = step.get("name", f"step {number}")
        if "if" in step:
            match = _COND.match(step["if"].strip())
            assert match, f"the test cannot evaluate if: {step['if']}"
            sid, key, op, value = match.groups()
            actual = contexts["steps"].get(sid, {}).get("outputs", {}).get(key, "")
            if (actual == value) != (op == "=="):
                continue
        output = workspace / f".github_output_{number}"
        output.write_text("", encoding="utf-8")
        env = bench.env(**base_env, **{k: _expand(v, contexts) for k, v in step.get("env", {}).items()},
                        GITHUB_OUTPUT=str(output))
        script = workspace / f".step_{number}.sh"
        script.write_text(_expand(step["run"], contexts), encoding="utf-8")
        done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=workspace,
                              env=env, capture_output=True, text=True, timeout=300)
        ran.append(name)
        outputs = dict(line.split("=", 1) for line in output.read_text(encoding="utf-8").splitlines() if "=" in line)
        if "id" in step:
            contexts["steps"][step["id"]] = {"outputs": outputs}
        if done.returncode != 0:
            return JobResult(name, ran, {k: v["outputs"] for k, v in contexts["steps"].items()})
    return JobResult(None, ran, {k: v["outputs"] for k, v in contexts["steps"].items()})


def save_cache(workspace: Path, cache: Path) -> None:
    """What actions/cache/save keeps of the workspace: its `path` patterns, `!` ones excluded."""
    step = next(s for s in WORKFLOW["jobs"]["crawl"]["steps"] if s.get("uses", "").startswith("actions/cache/save"))
    for pattern in _cache_paths(step):
        if not pattern.startswith("!"):
            shutil.copytree(workspace / pattern, cache / pattern)
    for pattern in _cache_paths(step):
        if pattern.startswith("!"):
            for path in cache.glob(pattern[1:]):
                shutil.rmtree(path)


def restore_cache(cache: Path, workspace: Path) -> None:
    shutil.copytree(cache, workspace, dirs_exist_ok=True)


def test_workflow_shape() -> None:
    assert WORKFLOW["concurrency"] == {"group": "paperset-hf-papers", "cancel-in-progress": False}
    assert WORKFLOW["env"]["PAPERSET_CONTACT"]
    steps = WORKFLOW["jobs"]["crawl"]["steps"]
    restore = next(s for s in steps if s.get("uses", "").startswith("actions/cache/restore"))
    assert _cache_paths(restore) == ["datasets"]
    for step in steps:
        assert "| tail" not in step.get("run", "")


def test_a_healthy_run_publishes_once_and_the_cache_holds_only_what_the_next_needs(replica, tmp_path) -> None:
    bench = Bench(tmp_path, replica.base_url)
    first = run_job(bench, bench.workspace, fresh=True)
    assert first.failed_step is None, first
    dataset = bench.workspace / "datasets/hf-papers"
    version = (dataset / "LATEST").read_text(encoding="utf-8").strip()
    assert first.outputs["run"] == {"version": version}
    assert bench.uploads() == [["publish", f"datasets/hf-papers/{version}", "--to",
                                "hf://datasets/someone/hf-papers", "--upload"]]
    assert (bench.hub / "hf-papers/LATEST").read_text(encoding="utf-8").strip() == version
    assert bench.calls("pull") == []
    assert [c[:4] for c in bench.calls("prune")] == [["prune", "datasets/hf-papers", "--keep", "1"]]

    cache = tmp_path / "cache"
    save_cache(bench.workspace, cache)
    kept = cache / "datasets/hf-papers"
    assert sorted(p.name for p in kept.iterdir() if p.name not in (".lock", ".proofs")) == [version, "LATEST"]
    assert (kept / version / "dedupe-index").is_dir()  # the near-dup index the next run starts from
    assert not (kept / ".runs").exists()

    # The next night, cache restored: nothing changed on the site, nothing uploaded again.
    second_ws = bench.fresh_workspace("ws2")
    restore_cache(cache, second_ws)
    second = run_job(bench, second_ws, fresh=False)
    assert second.failed_step is None, second
    assert second.outputs["run"] == {"version": ""}
    assert len(bench.uploads()) == 1 and bench.calls("pull") == []
    assert "Publish to the Hub" not in second.ran

    # The cache is gone: the parent comes back from the published dataset, not a fresh start.
    third_ws = bench.fresh_workspace("ws3")
    third = run_job(bench, third_ws, fresh=False)
    assert third.failed_step is None, third
    assert [c[:4] for c in bench.calls("pull")] == [["pull", "hf://datasets/someone/hf-papers", "--out", "datasets"]]
    assert third.outputs["run"] == {"version": ""}  # folded onto the pulled parent: no change
    assert (third_ws / "datasets/hf-papers/LATEST").read_text(encoding="utf-8").strip() == version
    assert len(bench.uploads()) == 1


def test_the_cache_gone_and_nothing_published_fails_instead_of_starting_afresh(replica, tmp_path) -> None:
    bench = Bench(tmp_path, replica.base_url)
    result = run_job(bench, bench.workspace, fresh=False)
    assert result.failed_step == "Restore the parent version from the published dataset when the cache is gone"
    assert bench.calls("run") == [] and bench.uploads() == []


def test_a_dead_site_with_a_parent_fails_the_job(replica, tmp_path) -> None:
    bench = Bench(tmp_path, replica.base_url)
    assert run_job(bench, bench.workspace, fresh=True).failed_step is None
    cache = tmp_path / "cache"
    save_cache(bench.workspace, cache)
    dead = Bench(tmp_path / "dead", DEAD_SITE)
    restore_cache(cache, dead.workspace)
    result = run_job(dead, dead.workspace, fresh=False)
    assert result.failed_step == "Crawl, clean, package, verify"
    assert dead.uploads() == [] and dead.calls("prune") == []


def test_a_dead_site_on_the_first_run_fails_the_job(tmp_path) -> None:
    bench = Bench(tmp_path, DEAD_SITE)
    result = run_job(bench, bench.workspace, fresh=True)
    assert result.failed_step == "Crawl, clean, package, verify"
    assert bench.uploads() == []


# --- cron ---------------------------------------------------------------------------------------


def _substitute(text: str, bench: Bench) -> str:
    for old, new in (("/srv/paperset", bench.workspace), ("/srv/datasets", bench.base / "datasets"),
                     ("/srv/www", bench.base / "www"), ("/var/log/paperset", bench.base / "log")):
        text = text.replace(old, str(new))
    return text


def cron_job() -> tuple[dict[str, str], str]:
    """The crontab's variables and its one job's command."""
    variables: dict[str, str] = {}
    commands = []
    for line in (DEPLOY / "cron.example").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if re.match(r"^[A-Z_]+=", line):
            name, value = line.split("=", 1)
            variables[name] = value
        else:
            commands.append(line.split(None, 5)[5])
    assert len(commands) == 1
    return variables, commands[0]


def run_cron(bench: Bench) -> subprocess.CompletedProcess[str]:
    variables, command = cron_job()
    (bench.base / "log").mkdir(exist_ok=True)
    return subprocess.run(["/bin/sh", "-c", _substitute(command, bench)], env=bench.env(**variables),
                          capture_output=True, text=True, timeout=300)


def test_cron_line_publishes_to_the_mirror_and_prunes(replica, tmp_path) -> None:
    variables, command = cron_job()
    assert "%" not in command  # cron would cut the line there
    assert variables["PAPERSET_CONTACT"]
    bench = Bench(tmp_path, replica.base_url)
    result = run_cron(bench)
    assert result.returncode == 0, (result.stderr, (tmp_path / "log/run.err").read_text())
    assert result.stdout == ""  # nothing for cron to mail: it all went to the logs
    version = (tmp_path / "datasets/hf-papers/LATEST").read_text(encoding="utf-8").strip()
    assert (tmp_path / "www/datasets/hf-papers/LATEST").read_text(encoding="utf-8").strip() == version
    assert [c[:4] for c in bench.calls("prune")] == [["prune", str(tmp_path / "datasets/hf-papers"), "--keep", "7"]]


def test_cron_line_stops_on_a_dead_site(replica, tmp_path) -> None:
    bench = Bench(tmp_path, replica.base_url)
    assert run_cron(bench).returncode == 0
    dead = Bench(tmp_path / "dead", DEAD_SITE)
    shutil.copytree(tmp_path / "datasets", dead.base / "datasets")
    failed = run_cron(dead)
    assert failed.returncode == 1
    assert dead.calls("publish") == [] and dead.calls("prune") == []


def test_cron_log_is_one_json_line_per_run(replica, tmp_path) -> None:
    bench = Bench(tmp_path, replica.base_url)
    for _ in range(2):
        assert run_cron(bench).returncode == 0
    lines = (tmp_path / "log/run.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    assert [json.loads(line)["outcome"] for line in lines] == ["published", "unchanged"]


# --- systemd ------------------------------------------------------------------------------------

UNITS = ("paperset.service", "paperset.timer", "paperset-worker@.service")


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed here")
def test_systemd_units_verify(tmp_path) -> None:
    install = tmp_path / "srv/paperset/.venv/bin"
    install.mkdir(parents=True)
    (install / "paperset").symlink_to(ROOT / ".venv/bin/paperset")
    units = tmp_path / "units"
    units.mkdir()
    for name in UNITS:
        text = (DEPLOY / name).read_text(encoding="utf-8").replace("/srv/paperset", str(tmp_path / "srv/paperset"))
        (units / name).write_text(text, encoding="utf-8")
    (units / "paperset-worker@1.service").write_text((units / "paperset-worker@.service").read_text())
    for name in ("paperset.service", "paperset.timer", "paperset-worker@1.service"):
        result = subprocess.run(["systemd-analyze", "verify", "--man=no", str(units / name)], capture_output=True,
                                text=True, timeout=60)
        assert (result.returncode, result.stdout, result.stderr) == (0, "", ""), name


def service_commands() -> list[str]:
    """paperset.service's ExecStart and ExecStartPost lines, in the order systemd runs them."""
    lines = (DEPLOY / "paperset.service").read_text(encoding="utf-8").splitlines()
    return [line.split("=", 1)[1] for line in lines if line.startswith(("ExecStart=", "ExecStartPost="))]


def test_systemd_service_commands_run_by_hand(replica, tmp_path) -> None:
    bench = Bench(tmp_path, replica.base_url)
    commands = service_commands()
    assert len(commands) == 3
    env = {line.split("=", 1)[1].split("=", 1)[0]: line.split("=", 1)[1].split("=", 1)[1]
           for line in (DEPLOY / "paperset.service").read_text(encoding="utf-8").splitlines()
           if line.startswith("Environment=")}
    assert env["PAPERSET_CONTACT"]
    for command in commands:
        result = subprocess.run(shlex.split(_substitute(command, bench)), cwd=bench.workspace,
                                env=bench.env(**env), capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, (command, result.stderr[-3000:])
    version = (tmp_path / "datasets/hf-papers/LATEST").read_text(encoding="utf-8").strip()
    assert (tmp_path / "www/datasets/hf-papers/LATEST").read_text(encoding="utf-8").strip() == version
    assert [c[0] for c in bench.calls("run") + bench.calls("publish") + bench.calls("prune")] == [
        "run", "publish", "prune"]
