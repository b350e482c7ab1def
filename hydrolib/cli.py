"""Command line: ``python -m hydrolib <command> ...``."""

from __future__ import annotations

import argparse
import time


def _synthetic(args: argparse.Namespace) -> int:
    from hydrolib.data.synthetic import generate

    started = time.perf_counter()
    path = generate(args.root, args.resolution, (args.first_year, args.last_year), args.seed,
                    workers=args.workers, overwrite=args.overwrite, progress=True, compression=args.compression)
    print(f"synthetic world in {path} ({time.perf_counter() - started:.1f} s)")
    return 0


def _book(args: argparse.Namespace) -> int:
    from hydrolib.book import build_book

    parameters = _key_values(args.parameter, "-p")
    started = time.perf_counter()
    build_book(args.profile, args.output, notebooks=args.only or None, parameters=parameters,
               train=not args.no_train)
    print(f"book built in {time.perf_counter() - started:.1f} s")
    return 0


def _train(args: argparse.Namespace) -> int:
    from hydrolib.distributed import init_from_environment
    from hydrolib.experiments import run, run_all

    dist_info, device = init_from_environment(args.device)  # a no-op outside torchrun
    overrides = _key_values(args.override, "--set")

    def report(request, result) -> None:
        medians = "  ".join(f"{t} {v:.3f}" for t, v in result.median_scores("kge").items())
        print(f"{request.name:10s} seed {request.seed} fraction {request.train_fraction:g}  median KGE: {medians}"
              f"   ({result.seconds:.0f} s, {len(result.history.train_loss)} epochs)  -> {result.folder}", flush=True)

    if args.command == "run-all":
        run_all(args.profile, device=device, seed=args.seed, world_seed=args.world_seed, data_root=args.data_root,
                progress=not args.quiet, dist_info=dist_info, report=report, **overrides)
        return 0
    result = run(args.name, args.profile, device=device, seed=args.seed, train_fraction=args.train_fraction,
                 world_seed=args.world_seed, data_root=args.data_root, progress=not args.quiet, dist_info=dist_info,
                 **overrides)
    if result is not None:  # None on ranks other than 0
        from hydrolib.experiments import RunRequest

        report(RunRequest(args.name, args.seed, args.train_fraction), result)
    return 0


def _summary(args: argparse.Namespace) -> int:
    import json

    from hydrolib.experiments import run
    from hydrolib.summary import summarise

    for item in args.runs:
        name, _, seed = item.partition(":")
        result = run(name, args.profile, device=args.device, seed=int(seed or 0), train_fraction=args.train_fraction,
                     world_seed=args.world_seed, data_root=args.data_root, progress=not args.quiet)
        print(json.dumps(summarise(result)), flush=True)
    return 0


def _key_values(items: list[str], flag: str) -> dict:
    """KEY=VALUE strings to a dict, numbers parsed as numbers."""
    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"{flag} takes KEY=VALUE; got {item!r}")
        pairs[key] = _parse_value(value)
    return pairs


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
    synthetic.add_argument("--compression", choices=("zstd", "zlib"), default=None,
                           help="netCDF compression (default zstd where available; zlib for any netCDF tool)")
    synthetic.set_defaults(handler=_synthetic)

    book = commands.add_parser("book", help="execute the notebooks with papermill and build the HTML book")
    book.add_argument("--profile", default="quick", help="smoke, quick or paper")
    book.add_argument("--output", default="_build", help="build folder (HTML in <output>/_build/html)")
    book.add_argument("--only", nargs="*", default=[], help="execute only these notebooks (e.g. 01_data)")
    book.add_argument("-p", "--parameter", action="append", default=[], metavar="KEY=VALUE",
                      help="notebook parameter, e.g. -p data_root=/data/LandBench -p seed=1 -p device=cuda")
    book.add_argument("--no-train", action="store_true",
                      help="do not train the book's runs up front (notebooks train what the cache lacks)")
    book.set_defaults(handler=_book)

    for command, helptext in (("train", "train one of the study's runs (or load it from the cache)"),
                              ("run-all", "train every run the book needs (the seven runs, further seeds, the data-scarcity sweep)")):
        sub = commands.add_parser(command, help=helptext)
        if command == "train":
            sub.add_argument("name", help="stl-sm1, stl-sm2, stl-sm3, stl-et, mtl-none, mtl-fixed or mtl-diff")
        sub.add_argument("--profile", default="quick", help="smoke, quick or paper")
        sub.add_argument("--device", default="cpu", help="cpu or cuda")
        sub.add_argument("--seed", type=int, default=0, help="training seed (weights, batches, scarcity subset)")
        sub.add_argument("--world-seed", type=int, default=0, help="the synthetic world's seed")
        sub.add_argument("--train-fraction", type=float, default=1.0, help="share of training cells kept")
        sub.add_argument("--data-root", default="", help="LandBench folder; empty for the synthetic world")
        sub.add_argument("--set", dest="override", action="append", default=[], metavar="KEY=VALUE",
                         help="override a profile size or physics weight, e.g. --set epochs=5")
        sub.add_argument("--quiet", action="store_true", help="no progress bars")
        sub.set_defaults(handler=_train)
    summary = commands.add_parser("summary", help="key numbers of runs as JSON lines (trains what is not cached)")
    summary.add_argument("runs", nargs="+", metavar="NAME[:SEED]", help="e.g. mtl-diff mtl-diff:1")
    summary.add_argument("--profile", default="quick", help="smoke, quick or paper")
    summary.add_argument("--device", default="cpu", help="cpu or cuda")
    summary.add_argument("--train-fraction", type=float, default=1.0, help="share of training cells kept")
    summary.add_argument("--world-seed", type=int, default=0, help="the synthetic world's seed")
    summary.add_argument("--data-root", default="", help="LandBench folder; empty for the synthetic world")
    summary.add_argument("--quiet", action="store_true", help="no progress bars")
    summary.set_defaults(handler=_summary)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "years", None) is not None:
        args.first_year, args.last_year = args.years
    return args.handler(args)
