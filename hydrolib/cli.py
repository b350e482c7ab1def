"""Command line: ``python -m hydrolib <command> ...``."""

from __future__ import annotations

import argparse
import time


def _synthetic(args: argparse.Namespace) -> int:
    from hydrolib.data.synthetic import generate

    started = time.perf_counter()
    path = generate(args.root, args.resolution, (args.first_year, args.last_year), args.seed,
                    workers=args.workers, overwrite=args.overwrite, progress=True)
    print(f"synthetic world in {path} ({time.perf_counter() - started:.1f} s)")
    return 0


def _book(args: argparse.Namespace) -> int:
    from hydrolib.book import build_book

    parameters = {}
    for item in args.parameter:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"-p takes KEY=VALUE; got {item!r}")
        parameters[key] = _parse_value(value)
    started = time.perf_counter()
    build_book(args.profile, args.output, notebooks=args.only or None, parameters=parameters)
    print(f"book built in {time.perf_counter() - started:.1f} s")
    return 0


def _parse_value(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m hydrolib", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    synthetic = commands.add_parser("synthetic", help="write the synthetic LandBench-shaped world")
    synthetic.add_argument("root", help="folder that will hold the resolution folder (e.g. data/LandBench)")
    synthetic.add_argument("--resolution", type=float, default=4.0, help="grid spacing: 0.5, 1, 2 or 4 degrees")
    synthetic.add_argument("--years", nargs=2, type=int, metavar=("FIRST", "LAST"), default=(2015, 2020),
                           dest="years", help="inclusive range of years")
    synthetic.add_argument("--seed", type=int, default=0)
    synthetic.add_argument("--workers", type=int, default=None, help="writer processes (default: cores - 1)")
    synthetic.add_argument("--overwrite", action="store_true", help="replace a different world at the same place")
    synthetic.set_defaults(handler=_synthetic)

    book = commands.add_parser("book", help="execute the notebooks with papermill and build the HTML book")
    book.add_argument("--profile", default="quick", help="smoke, quick or paper")
    book.add_argument("--output", default="_build", help="build folder (HTML in <output>/_build/html)")
    book.add_argument("--only", nargs="*", default=[], help="execute only these notebooks (e.g. 01_data)")
    book.add_argument("-p", "--parameter", action="append", default=[], metavar="KEY=VALUE",
                      help="notebook parameter, e.g. -p data_root=/data/LandBench -p seed=1")
    book.set_defaults(handler=_book)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "years", None) is not None:
        args.first_year, args.last_year = args.years
    return args.handler(args)
