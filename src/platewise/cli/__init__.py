"""The ``platewise`` command line.

Commands are discovered from the modules ``platewise.cli.cmd_*``. Each such module defines:

    COMMAND = ("train", "ocr")       # the words that reach it: ``platewise train ocr``
    HELP = "one line for --help"
    def configure(parser: argparse.ArgumentParser) -> None: ...
    def run(args: argparse.Namespace) -> int: ...          # the exit code

Modules import heavy libraries (torch, onnxruntime, grpc) inside ``run`` so that ``--help`` stays fast.
User errors (any :class:`~platewise.errors.PlatewiseError`, ``ValueError``, a missing file) print one line
``platewise: error: ...`` on stderr and exit 2; no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType

from platewise import __version__
from platewise.errors import MissingExtra, PlatewiseError

__all__ = ["build_parser", "main"]

_GROUP_HELP = {
    "train": "train a network (needs the [train] extra)",
    "eval": "measure accuracy and speed on labelled data",
    "export": "export a checkpoint to ONNX / TorchScript (needs the [train] extra)",
    "synth": "generate synthetic plates and scenes",
    "store": "manage the plate reads database",
}


def _command_modules() -> list[ModuleType]:
    mods = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("cmd_"):
            mods.append(importlib.import_module(f"{__name__}.{info.name}"))
    return mods


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="platewise", description="platewise: find, straighten and read license plates; serve and search them."
    )
    parser.add_argument("--version", action="version", version=f"platewise {__version__}")
    top = parser.add_subparsers(dest="command", metavar="COMMAND")
    groups: dict[str, argparse._SubParsersAction] = {}  # type: ignore[type-arg]
    for mod in _command_modules():
        words: tuple[str, ...] = mod.COMMAND
        short = mod.HELP.replace("%", "%%")  # argparse %-formats help strings
        if len(words) == 1:
            sub = top.add_parser(words[0], help=short, description=mod.HELP)
        else:
            if words[0] not in groups:
                gp = top.add_parser(words[0], help=_GROUP_HELP.get(words[0], ""), description=_GROUP_HELP.get(words[0]))
                groups[words[0]] = gp.add_subparsers(dest="subcommand", metavar="SUBCOMMAND")
                gp.set_defaults(_group_parser=gp)
            sub = groups[words[0]].add_parser(words[1], help=short, description=mod.HELP)
        mod.configure(sub)
        sub.set_defaults(_run=mod.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args, rest = parser.parse_known_args(argv)
    if rest and not getattr(args, "_accepts_overrides", False):
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    args.overrides = rest
    if not hasattr(args, "_run"):
        (getattr(args, "_group_parser", None) or parser).print_help(sys.stderr)
        return 2
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print("platewise: interrupted", file=sys.stderr)
        return 130
    except ModuleNotFoundError as e:
        extra = "train" if (e.name or "").split(".")[0] in {"torch", "onnx", "matplotlib", "onnxscript"} else "dev"
        print(f"platewise: error: {MissingExtra(extra, 'this command')} (missing module {e.name})", file=sys.stderr)
        return 2
    except (PlatewiseError, ValueError, FileNotFoundError, IsADirectoryError, PermissionError) as e:
        msg = str(e).splitlines()[0] if str(e) else type(e).__name__
        print(f"platewise: error: {msg}", file=sys.stderr)
        return 2
