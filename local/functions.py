"""The template's functions as local "execution environments": the real `functions.<folder>.app` modules.

Like Lambda, one environment runs one invocation at a time (Powertools' resolver and BatchProcessor keep
per-invocation state on module-level objects). A function that may run several batches at once (the
sender with N workers) gets N environments: the first is the canonical `functions.<folder>.app` module,
the others are fresh, separate instances of the same file, as separate Lambda sandboxes would be.
Modules are imported lazily, after moto and the environment are in place: a client built at import
time would escape moto.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from local.infra import ROOT

log = logging.getLogger("local.functions")


@dataclass
class LocalContext:
    """The Lambda context object handed to every invocation."""

    function_name: str
    memory_limit_in_mb: int
    invoked_function_arn: str
    aws_request_id: str
    timeout_seconds: int = 30
    log_group_name: str = "/aws/lambda/engage-local"
    log_stream_name: str = "local"
    function_version: str = "$LATEST"
    _started: float = field(default_factory=time.monotonic)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.timeout_seconds - (time.monotonic() - self._started)) * 1000))


class MissingHandler(RuntimeError):
    """The function's `app.py` does not exist (yet)."""


@dataclass
class LocalFunction:
    logical_id: str
    folder: str
    name: str
    timeout: int
    memory: int
    events: dict[str, Any]
    max_environments: int = 1
    override: Callable[[dict[str, Any], Any], Any] | None = None  # tests register stand-in handlers
    _free: list[ModuleType] = field(default_factory=list)
    _count: int = 0
    _cond: threading.Condition = field(default_factory=threading.Condition)

    @property
    def path(self) -> Path:
        return ROOT / "functions" / self.folder / "app.py"

    @property
    def exists(self) -> bool:
        return self.override is not None or self.path.is_file()

    def _load(self) -> ModuleType:
        if not self.exists:
            raise MissingHandler(f"function {self.logical_id}: {self.path.relative_to(ROOT)} does not exist yet")
        module_name = f"functions.{self.folder}.app"
        if self._count == 0:
            return importlib.import_module(module_name)
        spec = importlib.util.spec_from_file_location(module_name, self.path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    def warm(self) -> bool:
        """Imports the first environment now (cold start at runtime start). False if app.py is missing."""
        if self.override is not None:
            return True
        if not self.exists:
            log.warning("skipping %s: functions/%s/app.py does not exist yet", self.logical_id, self.folder)
            return False
        try:
            module = self._acquire()
        except Exception as error:  # a handler that exists must import: say which one, loudly
            raise RuntimeError(f"functions/{self.folder}/app.py failed to import: {error!r}") from error
        self._release(module)
        return True

    def _acquire(self) -> ModuleType:
        with self._cond:
            while not self._free and self._count >= self.max_environments:
                self._cond.wait()
            if self._free:
                return self._free.pop()
            module = self._load()
            self._count += 1
            return module

    def _release(self, module: ModuleType) -> None:
        with self._cond:
            self._free.append(module)
            self._cond.notify()

    def context(self) -> LocalContext:
        return LocalContext(
            function_name=self.name,
            memory_limit_in_mb=self.memory,
            invoked_function_arn=f"arn:aws:lambda:eu-west-1:123456789012:function:{self.name}",
            aws_request_id=str(uuid.uuid4()),
            timeout_seconds=self.timeout,
        )

    def invoke(self, event: dict[str, Any]) -> Any:
        """Runs `lambda_handler(event, context)` in a free environment (waits for one)."""
        if self.override is not None:
            return self.override(event, self.context())
        module = self._acquire()
        try:
            handler: Callable[[dict[str, Any], Any], Any] = module.lambda_handler
            return handler(event, self.context())
        finally:
            self._release(module)


def build_functions(template: dict[str, Any], resolve: Callable[[Any], Any]) -> dict[str, LocalFunction]:
    from local.infra import functions as template_functions

    globals_ = template.get("Globals", {}).get("Function", {})
    found = {}
    for logical, spec in template_functions(template).items():
        props = spec["props"]
        found[logical] = LocalFunction(
            logical_id=logical,
            folder=spec["folder"],
            name=str(resolve(props.get("FunctionName", logical))),
            timeout=int(props.get("Timeout", globals_.get("Timeout", 3))),
            memory=int(props.get("MemorySize", globals_.get("MemorySize", 128))),
            events=spec["events"],
        )
    return found
