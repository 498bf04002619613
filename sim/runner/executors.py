"""Executors: serial, process (spawned workers) and dask, all as ``concurrent.futures.Executor``.

The sweep loop only submits and waits, so the same code drives a laptop run and a cluster run.
``process`` spawns rather than forks: workers start clean, without the main process's memory or
threads. ``dask`` talks to a LocalCluster, a running scheduler, or SLURM through dask-jobqueue;
dask re-runs a task whose worker died, so a killed worker loses no run.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from sim.scenario.errors import EnvironmentFailure, InputError, clip

EXECUTORS = ("serial", "process", "dask")


@dataclass(frozen=True)
class ExecutorSpec:
    kind: str = "process"
    workers: int | None = None  # None: one per CPU core
    scheduler: str | None = None  # dask only: an address, or "slurm"

    def resolved_workers(self) -> int:
        """Workers to start: one per CPU core at most on this machine (more only queue runs and
        cost memory); SLURM jobs as asked."""
        if self.kind == "serial":
            return 1
        cores = os.cpu_count() or 1
        if self.kind == "dask" and self.scheduler == "slurm":
            return max(1, self.workers or cores)
        return max(1, min(self.workers or cores, cores))

    def describe(self) -> str:
        if self.kind == "dask" and self.scheduler:
            return f"dask ({self.scheduler})"
        return (
            f"{self.kind} ({self.resolved_workers()} worker{'s' * (self.resolved_workers() > 1)})"
        )


class SerialExecutor(Executor):
    """Runs each task at submission, in this process: for debugging and tiny sweeps."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        future: Future = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 (a future carries any exception)
            future.set_exception(exc)
        return future


@dataclass
class OpenExecutor:
    executor: Executor
    slots: Callable[[], int]  # tasks that can run at once (may grow as cluster workers join)
    restart: Callable[[], Executor] | None = None  # a fresh pool after a worker crash
    dashboard: str | None = None
    client: Any = None  # dask only: the distributed Client (pyabc's dask sampler needs it)


def validate(spec: ExecutorSpec) -> None:
    """Check the choice before anything is written, so a missing extra is an input error."""
    if spec.kind not in EXECUTORS:
        raise InputError(f"--executor {spec.kind}: expected one of {', '.join(EXECUTORS)}")
    if spec.workers is not None and spec.workers < 1:
        raise InputError(f"--workers {spec.workers}: expected a whole number >= 1")
    if spec.scheduler and spec.kind != "dask":
        raise InputError("--scheduler needs --executor dask")
    if spec.scheduler and spec.scheduler != "slurm":
        _check_address(spec.scheduler)
    if spec.kind == "dask":
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise InputError(
                "--executor dask needs the optional extra: pip install 'klaster[dask]'"
            ) from None
        if spec.scheduler == "slurm":
            try:
                import dask_jobqueue  # noqa: F401
            except ImportError:
                raise InputError(
                    "--scheduler slurm needs dask-jobqueue: pip install 'klaster[dask]'"
                ) from None


def _check_address(address: str) -> None:
    """A dask scheduler address: [scheme://]host:port, port 1-65535 (checked before connecting)."""
    from distributed.comm.addressing import parse_address, parse_host_port

    shown = clip(address, 80)
    try:
        scheme, location = parse_address(address)
        if scheme not in ("tcp", "tls", "ws", "wss", "ucx", "inproc"):
            raise ValueError(f"unknown scheme {scheme!r}")
        if scheme != "inproc":
            host, port = parse_host_port(location)
            if not host or not 0 < int(port) < 65536:
                raise ValueError("expected host:port with a port from 1 to 65535")
    except (ValueError, TypeError) as exc:
        raise InputError(
            f"--scheduler {shown}: not a scheduler address, expected e.g. tcp://host:8786 "
            f"({clip(str(exc), 80)})"
        ) from None


@contextlib.contextmanager
def open_executor(spec: ExecutorSpec) -> Iterator[OpenExecutor]:
    validate(spec)
    if spec.kind == "serial":
        from sim.runner.worker import unfreeze

        try:
            yield OpenExecutor(SerialExecutor(), lambda: 1)
        finally:
            unfreeze()  # this process lives on after the sweep: let it collect everything again
    elif spec.kind == "process":
        workers = spec.resolved_workers()
        pools: list[ProcessPoolExecutor] = []

        def new_pool() -> Executor:
            pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
            pools.append(pool)
            return pool

        try:
            yield OpenExecutor(new_pool(), lambda: workers, restart=new_pool)
        finally:
            for pool in pools:
                pool.shutdown(wait=True, cancel_futures=True)
    else:
        with _dask(spec) as opened:
            yield opened


@contextlib.contextmanager
def _dask(spec: ExecutorSpec) -> Iterator[OpenExecutor]:
    from distributed import Client, LocalCluster

    workers = spec.resolved_workers()
    cluster: Any = None
    if spec.scheduler is None:
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
    elif spec.scheduler == "slurm":
        from dask_jobqueue import SLURMCluster

        cluster = SLURMCluster()  # queue, cores, memory, walltime: from the jobqueue config
        cluster.scale(jobs=workers)
        client = Client(cluster)
        client.wait_for_workers(1)
    else:
        try:
            client = Client(spec.scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise EnvironmentFailure(
                f"--scheduler {clip(spec.scheduler, 80)}: cannot connect ({clip(str(exc), 120)})"
            ) from None
        except ValueError as exc:
            raise InputError(
                f"--scheduler {clip(spec.scheduler, 80)}: not a scheduler address "
                f"({clip(str(exc), 120)})"
            ) from None
    try:

        def slots() -> int:
            return sum(client.nthreads().values()) or workers

        yield OpenExecutor(
            client.get_executor(pure=False),
            slots,
            dashboard=client.dashboard_link,
            client=client,
        )
    finally:
        client.close()
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close()
        sys.stderr.flush()
