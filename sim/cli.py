"""The ``klaster`` command. Each subcommand lives in its own module; this file only dispatches.

Bad input anywhere (files, arguments) surfaces as ``InputError``: one message, exit code 2,
no traceback, nothing written. Exit codes: 0 success, 1 runs failed, 2 bad input, 3 the
environment failed (disk full, permissions, scheduler), 130 interrupted. No traceback ever
reaches a user: anything unexpected is one line too (``KLASTER_DEBUG=1`` shows the traceback).
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import sys

from sim.scenario.errors import (
    EXIT_ENVIRONMENT,
    EXIT_RUNS_FAILED,
    EnvironmentFailure,
    InputError,
    RunFailed,
    clip,
)

# subcommand -> module providing ``add_arguments(parser)`` and ``main(args) -> int``
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "run": ("sim.commands.run", "Run one scenario and write its outcomes."),
    "compare": ("sim.commands.compare", "Run scenarios over several seeds and compare them."),
    "validate": ("sim.commands.validate", "Check scenario files without running them."),
    "schema": ("sim.commands.schema", "Print the JSON Schema of scenario files."),
    "sweep": ("sim.commands.sweep", "Run an experiment file: a parameter sweep."),
    "report": ("sim.commands.report", "Build the HTML report from experiment results."),
    "viz": ("sim.commands.viz", "Serve the interactive browser view."),
    "calibrate": ("sim.commands.calibrate", "Fit uncertain parameters to the targets (ABC-SMC)."),
    "validate-patterns": (
        "sim.commands.validate_patterns",
        "Check every calibration target on 32+ fresh seeds; exit 1 when one fails.",
    ),
}


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad arguments already; keep its message but make it one clear line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        sys.stderr.write(f"klaster: error: {message}\n")
        raise SystemExit(2)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The full parser; with ``only``, just that subcommand's module is imported.

    Importing every subcommand module (scipy via the comparison, the browser view) cost most of
    a cold start; the other subcommands still appear, with their help line, in ``--help``.
    """
    parser = _Parser(prog="klaster", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, (module_name, help_text) in SUBCOMMANDS.items():
        child = sub.add_parser(name, help=help_text, description=help_text)
        if only is not None and name != only:
            child.set_defaults(_module=None, _missing="not loaded")
            continue
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if not exc.name or not exc.name.startswith(module_name.rsplit(".", 1)[0]):
                raise
            child.set_defaults(_module=None, _missing=exc)
            continue
        module.add_arguments(child)
        child.set_defaults(_module=module)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run a subcommand; every way it can end is an exit code and at most one short message."""
    argv = sys.argv[1:] if argv is None else argv
    debug = bool(os.environ.get("KLASTER_DEBUG"))
    if not debug:  # e.g. a dask client's __del__ after a failed connection prints a traceback
        sys.unraisablehook = lambda _unraisable: None
    try:
        return _dispatch(argv)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except BaseException as exc:
        if debug:
            raise
        return _report(argv, exc)


def _report(argv: list[str], exc: BaseException) -> int:
    """One line for what escaped a command: the environment's failures, or an internal error."""
    command = next((word for word in argv if not word.startswith("-")), "")
    prefix = f"klaster {command}".rstrip()
    if isinstance(exc, InputError | EnvironmentFailure | RunFailed):
        sys.stderr.write(f"{prefix}: error: {exc}\n")
        return exc.exit_code
    if isinstance(exc, OSError):
        from sim.runner.folders import os_error

        failure = os_error(exc)
        sys.stderr.write(f"{prefix}: error: {failure}\n")
        return getattr(failure, "exit_code", EXIT_ENVIRONMENT)
    if isinstance(exc, MemoryError):
        sys.stderr.write(f"{prefix}: error: out of memory ({errno.errorcode[errno.ENOMEM]})\n")
        return EXIT_ENVIRONMENT
    if type(exc).__name__ == "BrokenProcessPool":
        sys.stderr.write(f"{prefix}: error: a worker process died (killed or out of memory)\n")
        return EXIT_RUNS_FAILED
    sys.stderr.write(
        f"{prefix}: internal error: {type(exc).__name__}: {clip(str(exc), 200)} "
        "(a bug in klaster: please report it; KLASTER_DEBUG=1 shows the traceback)\n"
    )
    return EXIT_RUNS_FAILED


def _dispatch(argv: list[str]) -> int:
    # the first word that is not an option names the subcommand ("" imports none: a typo
    # or a bare --help needs no module)
    command = next((word for word in argv if not word.startswith("-")), "")
    args = build_parser(only=command).parse_args(argv)
    module = args._module
    if module is None:
        sys.stderr.write(f"klaster {args.command}: not available ({args._missing})\n")
        return 2
    return int(module.main(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
