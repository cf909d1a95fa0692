"""Somebody else's code runs in a worker process: it may exit, crash or hang, and migsafe goes on.

Migrations run arbitrary Python: ``sys.exit()``, ``os._exit()``, a segfault in an extension,
an endless loop, ``input()``. None of that may end migsafe, hang it, or turn into a pass. A
``Worker`` is a child process (forked where the platform allows, so it starts with
everything migsafe has imported) that serves one request at a time over a pipe. When it dies
the parent learns how (``WorkerLost``); when a request takes too long the parent kills it
(``WorkerTimedOut``). Either way the parent starts a new worker and carries on.

The worker ignores Ctrl-C (the parent handles it and kills the worker), reads nothing from the
terminal, writes what the migration prints to stderr (stdout carries migsafe's report), and
dies with its parent. It leads a process group of its own, killed whole when it stops, so
that a process a migration forks or starts does not outlive the command either.
"""

from __future__ import annotations

import faulthandler
import gc
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any, NoReturn

from migsafe.lifetime import adopt_orphans, die_with_parent, kill_descendants


class WorkerLost(RuntimeError):
    """The worker process ended in the middle of a request; the message says how."""


class WorkerTimedOut(RuntimeError):
    """A request took longer than its time limit; the worker has been killed."""


def timed_out(timeout: float) -> str:
    return f"did not finish within {timeout:g} s (--timeout)"


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("fork" if "fork" in methods else "spawn")


class Worker:
    """A child process running ``serve(connection, *args)``, which answers requests.

    ``serve`` receives requests with ``connection.recv()`` and answers with
    ``connection.send()``; it may send other messages before its answer, which the parent
    reads with ``receive`` too.
    """

    def __init__(self, serve: Callable[..., None], *args: Any) -> None:
        context = _context()
        self.connection, child_end = context.Pipe()
        self.process = context.Process(
            target=_child_main, args=(serve, child_end, *args), daemon=True
        )
        self.process.start()
        child_end.close()

    def send(self, message: Any) -> None:
        try:
            self.connection.send(message)
        except (BrokenPipeError, ConnectionResetError, EOFError):
            raise WorkerLost(self.how_it_ended()) from None

    def receive(self, timeout: float | None) -> Any:
        """The next message; raises WorkerLost or WorkerTimedOut (after killing it), and
        KeyboardInterrupt on a Ctrl-C noticed while it waits (``interrupts_noticed``)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if self.connection.poll(_SLICE if left is None else min(_SLICE, left)):
                break
            if _INTERRUPTED.is_set():
                raise KeyboardInterrupt
            if left is not None and left <= _SLICE:
                self.stop()
                raise WorkerTimedOut(timed_out(timeout))
        try:
            return self.connection.recv()
        except (EOFError, ConnectionResetError, OSError):
            raise WorkerLost(self.how_it_ended()) from None

    def stop(self) -> None:
        """Kill the worker (whatever it is doing), and every process a migration started
        from it, and wait until the worker is gone."""
        if self.process.pid is not None:  # what it started and detached, then the rest
            kill_descendants(self.process.pid)
        _kill_group(self.process.pid)
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.connection.close()

    def how_it_ended(self) -> str:
        self.process.join(timeout=5)
        code = self.process.exitcode
        if code is None:
            self.stop()
            return "closed its connection to migsafe"
        if code < 0:
            return f"killed the process ({signal.Signals(-code).name})"
        return f"ended the process (exit code {code})"


# how long a wait for the worker lasts before it looks whether Ctrl-C was pressed
_SLICE = 0.25
_INTERRUPTED = threading.Event()


@contextmanager
def interrupts_noticed() -> Iterator[None]:
    """While waiting for workers: Ctrl-C raises KeyboardInterrupt as always, and is also
    remembered, so that a wait that goes on (the exception swallowed somewhere, a
    finalizer's ``Exception ignored``) still ends within a quarter of a second. Only in the
    main thread, and only where Python's own handler is in place; put back after."""
    main = threading.current_thread() is threading.main_thread()
    if not main or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return

    def interrupted(signum: int, frame: object) -> None:
        _INTERRUPTED.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupted)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        _INTERRUPTED.clear()


def _kill_group(pid: int | None) -> None:
    """SIGKILL the process group the worker ``pid`` leads: what a migration forked or
    started (a forked child sleeping, a server it launched) does not get the worker's
    parent-death signal, and would outlive the command."""
    if pid is None or not hasattr(os, "killpg"):
        return
    # ESRCH: the worker had not made its group yet, or the group is gone already
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


_exit = os._exit


def _exit_with_descendants(code: int) -> NoReturn:
    """``os._exit``, in a worker: what the process started goes first (after the worker they
    would pass to init, beyond reach: a tester's detached ``sleep`` held migsafe's output)."""
    kill_descendants(os.getpid())
    _exit(code)


def _child_main(serve: Callable[..., None], connection: Connection, *args: Any) -> None:
    # what the worker starts with (Alembic, SQLAlchemy, pglast: hundreds of thousands of
    # objects) lives until it exits: the collector need not walk it again at every full
    # collection while migrations allocate (docs/benchmarks.md)
    gc.freeze()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    faulthandler.disable()  # a migration that crashes the interpreter is reported, not dumped
    die_with_parent()
    adopt_orphans()  # a process a migration detaches stays below the worker, to be killed
    os._exit = _exit_with_descendants  # a migration's os._exit() kills them first
    if hasattr(os, "setpgid"):
        os.setpgid(0, 0)  # a group of its own, which stop() kills whole
    os.dup2(2, 1)  # stdout carries migsafe's report: what the migration prints goes to stderr
    sys.stdout = sys.stderr
    try:
        serve(connection, *args)
    finally:  # nothing a migration started outlives the worker (its adopted orphans would
        kill_descendants(os.getpid())  # pass to init when it ends)


@contextmanager
def process_state_kept() -> Iterator[None]:
    """Around one migration in a worker: what it may change of the process for the ones
    after it is put back. Its working directory (a relative ``script_location``, a module's
    ``open("data.json")``), the standard streams, closed or replaced (``sys.stdout.close()``
    would make every later ``print()`` raise), and the descriptors 1 and 2 under them."""
    cwd = os.getcwd()
    spare = os.dup(2)
    try:
        yield
    finally:
        for fd in (1, 2):
            try:
                os.fstat(fd)
            except OSError:
                os.dup2(spare, fd)
        os.close(spare)
        if os.getcwd() != cwd:
            os.chdir(cwd)
        if sys.stderr is None or sys.stderr.closed or sys.stdout is not sys.stderr:
            sys.stderr = sys.stdout = open(  # noqa: SIM115 - the worker's stream until it ends
                2, "w", buffering=1, encoding="utf-8", errors="backslashreplace", closefd=False
            )


@dataclass(frozen=True)
class Aside:
    """A message a worker sends between its answers: no answer, and the time limit of the
    next answer counts from it (what the worker did first, before its first answer, had a
    time limit of its own)."""

    payload: Any = None


def answers_in_order(
    start_worker: Callable[[list[Any]], Worker],
    count: int,
    timeout: float,
    lost: Callable[[int, str], Any],
    meanwhile: Callable[[], None] = lambda: None,
    aside: Callable[[Any], None] = lambda payload: None,
) -> list[Any]:
    """The answers ``0 .. count-1``, which a worker sends one after the other unasked.

    ``start_worker(answers)`` starts a worker that goes on after the answers so far: at
    first, and after an answer its worker died before giving or took longer than ``timeout``
    seconds to give (that answer is ``lost(index, how)``). ``meanwhile()`` is this process's
    own work, done while the first worker starts on its answers; ``aside(payload)`` takes
    each ``Aside`` a worker sends. Every worker is gone when this returns, or raises.
    """
    answers: list[Any] = []
    worker: Worker | None = None
    with interrupts_noticed():
        try:
            if count:
                worker = start_worker(answers)
            meanwhile()
            while len(answers) < count:
                worker = worker or start_worker(answers)
                try:
                    message = worker.receive(timeout)
                    if isinstance(message, Aside):
                        aside(message.payload)
                    else:
                        answers.append(message)
                except (WorkerLost, WorkerTimedOut) as exc:
                    answers.append(lost(len(answers), str(exc)))
                    worker.stop()
                    worker = None
        finally:
            if worker is not None:
                worker.stop()
    return answers
