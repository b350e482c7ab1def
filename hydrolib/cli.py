"""Command line: ``python -m hydrolib <command> ...``.

Every error a command meets is printed as ``error: …`` on stderr, one line per problem (the
file, variable or setting at fault, what was found, what was expected and what to do), and the
command exits with status 1 (130 when interrupted); the traceback is shown only with
``--debug``. Warnings are printed as one ``warning: …`` line each.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings


class CommandError(Exception):
    """A command line that cannot be carried out as given; the message says what to change."""

logger = logging.getLogger("hydrolib")


def _synthetic(args: argparse.Namespace) -> int:
    from hydrolib.data.source import generate_world

    started = time.perf_counter()
    path = generate_world(args.root, args.resolution, (args.first_year, args.last_year), args.seed,
                          workers=args.workers, overwrite=args.overwrite, progress=True, compression=args.compression,
                          world=args.world)
    logger.info("synthetic world in %s (%.1f s)", path, time.perf_counter() - started)
    return 0


def _book(args: argparse.Namespace) -> int:
    from hydrolib.book.build import build_book

    parameters = _key_values(args.parameter, "-p")
    if args.validation_years == 0 or parameters.get("validation_years") == 0:
        raise CommandError("the book cannot be built with validation_years=0: its chapters read 0 as the profile's "
                           "number, and chapter 4 chooses its weights on the validation years. Use 1 or more, or "
                           "train single runs without validation: python -m hydrolib train NAME --validation-years 0")
    flags = {"resolution": args.resolution, "validation_years": args.validation_years, "test_years": args.test_years,
             **(dict(zip(("first_year", "last_year"), args.run_years)) if args.run_years else {})}
    parameters |= {key: value for key, value in flags.items() if value is not None}
    started = time.perf_counter()
    # the paper profile's book is read from its committed results unless --train asks to run the study again
    train = args.train if args.train is not None else args.profile != "paper"
    build_book(args.profile, args.output, notebooks=args.only or None, parameters=parameters, train=train,
               jobs=args.jobs)
    logger.info("book built in %.1f s", time.perf_counter() - started)
    return 0


def _run_settings(args: argparse.Namespace) -> dict:
    """The run settings given on the command line (flags and ``--set``/``-p KEY=VALUE``)."""
    settings = _key_values(args.override, "--set")
    flags = {"seed": args.seed, "world_seed": args.world_seed, "train_fraction": args.train_fraction,
             "data_root": args.data_root, "resolution": args.resolution,
             "years": tuple(args.run_years) if args.run_years else None,
             "validation_years": args.validation_years, "test_years": args.test_years,
             "allow": tuple(args.allow) if args.allow else None}
    for key, value in flags.items():
        if value is not None:
            if key in settings and settings[key] != value:
                raise CommandError(f"setting {key!r} given twice with different values: {settings[key]!r} and "
                                   f"{value!r}; give it once")
            settings[key] = value
    return settings


def check_setting_device(device: str) -> None:
    """``--device`` checked before any work (``hydrolib.training.trainer.check_device``)."""
    from hydrolib.experiments.config import SettingError
    from hydrolib.training.trainer import check_device

    try:
        check_device(device)
    except ValueError as error:
        raise SettingError(str(error)) from None


def _setting_label(config) -> str:
    """The run's data and windows as ``RunRequest.setting`` words them (e.g. ``hold-out DE``)."""
    from hydrolib.experiments import RunRequest

    prepare = config.prepare
    return RunRequest(config.experiment, config.seed, prepare.train_fraction, prepare.train_years, prepare.holdout,
                      "" if config.training.alignment == "simulation" else config.training.alignment).setting


def _report(name: str, seed: int, setting: str, result) -> None:
    medians = "  ".join(f"{t} {v:.3f}" for t, v in result.median_scores("kge").items())
    print(f"{name:10s} seed {seed} {setting}  median KGE: {medians}"
          f"   ({result.seconds:.0f} s, {len(result.history.train_loss)} epochs)  -> {result.folder}", flush=True)
    if result.dropped_cells:
        reasons = "; ".join(f"{count} {reason}" for reason, count in result.dropped_cells.items())
        print(f"{'':10s} {result.land_cells - result.kept_cells} of {result.land_cells} cells with target values left "
              f"out before training: {reasons}", flush=True)


def _train(args: argparse.Namespace) -> int:
    from hydrolib.experiments import RunConfig, run, run_all
    from hydrolib.training.distributed import init_from_environment

    settings = _run_settings(args)
    if args.command == "run-all":
        RunConfig.build("mtl-none", args.profile, **settings)  # refuse bad settings before any work
        check_setting_device(args.device)
        dist_info, device = init_from_environment(args.device)  # a no-op outside torchrun
        run_all(args.profile, device=device, progress=not args.quiet, dist_info=dist_info, workers=args.jobs,
                report=lambda request, result: _report(request.name, request.seed, request.setting, result),
                **settings)
        return 0
    config = RunConfig.build(args.name, args.profile, **settings)
    check_setting_device(args.device)
    dist_info, device = init_from_environment(args.device)
    result = run(config, device=device, progress=not args.quiet, dist_info=dist_info)
    if result is not None:  # None on ranks other than 0
        _report(args.name, config.seed, _setting_label(config), result)
    return 0


def _summary(args: argparse.Namespace) -> int:
    import json

    from hydrolib.experiments import RunConfig, run
    from hydrolib.study.summary import summarise

    settings = _run_settings(args)
    for item in args.runs:
        name, _, seed = item.partition(":")
        config = RunConfig.build(name, args.profile, **{**settings, **({"seed": int(seed)} if seed else {})})
        check_setting_device(args.device)
        result = run(config, device=args.device, progress=not args.quiet)
        print(json.dumps(summarise(result)), flush=True)
    return 0


def _results(args: argparse.Namespace) -> int:
    import hydrolib.study.chapters  # noqa: F401  (registers every chapter's results)
    from hydrolib.experiments import RunConfig
    from hydrolib.study.results import compute_results

    settings = _run_settings(args)
    seed = settings.pop("seed", 0)
    RunConfig.build("mtl-none", args.profile, seed=seed, **settings)  # refuse bad settings before any work
    check_setting_device(args.device)
    started = time.perf_counter()
    folder = compute_results(args.profile, seed, args.device, args.only or None,
                             command="python -m hydrolib " + " ".join(sys.argv[1:]), **settings)
    logger.info("results in %s (%.1f s)", folder, time.perf_counter() - started)
    return 0


def _add_data_settings(sub: argparse.ArgumentParser) -> None:
    """The data's grid and years, under the same names on ``book`` and on every command that trains."""
    sub.add_argument("--resolution", type=float, default=None,
                     help="grid spacing: 0.5, 1, 2 or 4 degrees (default: the profile's)")
    sub.add_argument("--years", nargs=2, type=int, metavar=("FIRST", "LAST"), default=None, dest="run_years",
                     help="inclusive range of years to read; the last years are validation and test "
                          "(default: the profile's)")
    sub.add_argument("--validation-years", type=int, default=None,
                     help="years of validation before the test years (default: the profile's)")
    sub.add_argument("--test-years", type=int, default=None,
                     help="years of test at the end of the record (default: the profile's)")


def _add_run_settings(sub: argparse.ArgumentParser, *, alias_p: bool) -> None:
    """The settings of a run, under the same names on every command that trains or reads runs."""
    sub.add_argument("--profile", default="quick", help="smoke, quick or paper: the defaults of every setting")
    sub.add_argument("--device", default="cpu", help="cpu or cuda")
    sub.add_argument("--seed", type=int, default=None,
                     help="training seed: weights, batches, scarcity subset (default: 0)")
    sub.add_argument("--world-seed", type=int, default=None, help="the synthetic world's seed (default: 0)")
    sub.add_argument("--train-fraction", type=float, default=None,
                     help="share of training cells (or years) kept (default: 1, all)")
    sub.add_argument("--data-root", default=None,
                     help="LandBench folder (default: none, the synthetic world)")
    _add_data_settings(sub)
    sub.add_argument("--allow", action="append", default=[], metavar="CHECK",
                     help="proceed although this data check fails (its error names it), e.g. --allow water-units")
    flags = ("--set", "-p") if alias_p else ("--set",)
    sub.add_argument(*flags, dest="override", action="append", default=[], metavar="KEY=VALUE",
                     help="any other setting, e.g. --set epochs=5 --set balance_weight=0.5")
    sub.add_argument("--quiet", action="store_true", help="no progress bars")


def _cache(args: argparse.Namespace) -> int:
    from hydrolib.data.source import cache_dir
    from hydrolib.experiments.cache import cache_entries, prune, report

    root = cache_dir()
    print(f"cache: {root}")
    entries = cache_entries(root)
    report(entries)
    if not args.prune:
        return 0
    doomed = [entry for entry in entries if entry.prunable]
    if not doomed:
        print("nothing to prune")
        return 0
    size = sum(entry.size for entry in doomed) / 2**20
    if not args.yes:
        question = f"delete the {len(doomed)} stale entries listed above ({size:.1f} MiB) from {root}? [y/N] "
        if not sys.stdin.isatty():
            raise CommandError(f"cache --prune would delete the {len(doomed)} stale entries listed above "
                               f"({size:.1f} MiB) from {root}; there is no terminal to ask, so nothing was deleted. "
                               "Add --yes to delete them.")
        if input(question).strip().lower() not in ("y", "yes"):
            print("nothing deleted")
            return 0
    print(f"pruned {prune(entries) / 2**20:.1f} MiB")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from hydrolib.data.fingerprint import verify_report

    return 1 if verify_report(args.root, say=print) else 0


def _notebooks(args: argparse.Namespace) -> int:
    from hydrolib.book.launch import stale_launch_notebooks, write_launch_notebooks

    if args.check:
        stale = stale_launch_notebooks()
        for name in stale:
            logger.warning("notebooks/%s.ipynb differs from notebooks/%s.py; run: python -m hydrolib notebooks",
                           name, name)
        return 1 if stale else 0
    for path in write_launch_notebooks():
        logger.info("wrote %s", path)
    return 0


def _key_values(items: list[str], flag: str) -> dict:
    """KEY=VALUE strings to a dict, numbers parsed as numbers."""
    pairs = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CommandError(f"{flag} takes KEY=VALUE; got {item!r}")
        pairs[key] = _parse_value(value)
    return pairs


def _parse_value(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Each option's help ends with its default, where it has one to show (not None, False or
    an empty list: those say in their help what not giving them means)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default in (None, False, [], argparse.SUPPRESS) or "%(default)" in (action.help or ""):
            return action.help or ""
        return super()._get_help_string(action)


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"a whole number of parallel workers >= 1, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"a whole number of parallel workers >= 1, not {value}")
    return value


def _add_jobs(sub: argparse.ArgumentParser, what: str) -> None:
    sub.add_argument("-j", "--jobs", type=_jobs, default=None, metavar="N",
                     help=f"at most N {what} side by side (default: one per CPU core; 4 streams on a GPU)")


def _version() -> str:
    import platform

    import hydrolib

    return f"hydrolib {hydrolib.__version__} (Python {platform.python_version()})"


class _Parser(argparse.ArgumentParser):
    """The command line's parser: every command's help shows its defaults (``_HelpFormatter``);
    subcommands are made of the same class, so they do too."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)


def configure_logging(quiet: bool = False) -> None:
    """hydrolib's messages (``logging.getLogger("hydrolib")``) on stderr, one line each, without
    level or module (``--quiet``: warnings and errors only). Set once per process."""
    import sys

    if not any(getattr(h, "hydrolib_cli", False) for h in logger.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler.hydrolib_cli = True
        logger.addHandler(handler)
        logger.propagate = False
    logger.setLevel(logging.WARNING if quiet else logging.INFO)


DEBUG_HELP = "show the traceback of an error (by default one line says what went wrong and what to do)"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m hydrolib", description=__doc__)
    parser.add_argument("--version", action="version", version=_version())
    parser.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    debug = argparse.ArgumentParser(add_help=False)  # --debug after the command, too
    debug.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
    commands = parser.add_subparsers(dest="command", required=True)
    synthetic = commands.add_parser("synthetic", parents=[debug],
                                    help="write the synthetic LandBench-shaped world")
    synthetic.add_argument("root", help="folder that will hold the resolution folder (e.g. data/LandBench)")
    synthetic.add_argument("--resolution", type=float, default=4.0, help="grid spacing: 0.5, 1, 2 or 4 degrees")
    synthetic.add_argument("--years", nargs=2, type=int, metavar=("FIRST", "LAST"), default=(2015, 2020),
                           dest="years", help="inclusive range of years")
    synthetic.add_argument("--seed", type=int, default=0, help="the world's seed")
    synthetic.add_argument("-j", "--jobs", "--workers", type=_jobs, default=None, dest="workers", metavar="N",
                           help="at most N writer processes (default: one per CPU core)")
    synthetic.add_argument("--overwrite", action="store_true", help="replace a different world at the same place")
    from hydrolib.data.synthetic.worlds import DEFAULT_WORLD, WORLDS

    synthetic.add_argument("--world", choices=tuple(WORLDS), default=DEFAULT_WORLD,
                           help="the land model under the forcing (hydrolib.data.synthetic.WORLDS)")
    synthetic.add_argument("--compression", choices=("zstd", "zlib"), default=None,
                           help="netCDF compression (default zstd where available; zlib for any netCDF tool)")
    synthetic.set_defaults(handler=_synthetic)

    book = commands.add_parser("book", parents=[debug],
                               help="execute the notebooks with papermill and build the HTML book")
    book.add_argument("--profile", default="quick",
                      help="quick or smoke (trained from scratch on the CPU), or paper (the study's scale, from the "
                           "committed results in results/paper)")
    book.add_argument("--output", default="_build", help="build folder (HTML in <output>/_build/html)")
    book.add_argument("--only", nargs="*", default=[], metavar="CHAPTER",
                      help="execute only these chapters (e.g. 01_data); the others are published as an earlier "
                           "build executed them (default: all)")
    book.add_argument("-p", "--parameter", action="append", default=[], metavar="KEY=VALUE",
                      help="notebook parameter, e.g. -p data_root=/data/LandBench -p seed=1 -p device=cuda")
    _add_data_settings(book)
    _add_jobs(book, "runs trained and chapters executed")
    mode = book.add_mutually_exclusive_group()
    mode.add_argument("--train", dest="train", action="store_true", default=None,
                      help="train what the runs' store lacks and compute the results again (the default for quick "
                           "and smoke; for paper it rewrites results/paper, e.g. with -p device=cuda)")
    mode.add_argument("--from-results", dest="train", action="store_false", default=None,
                      help="render from results already computed, training nothing (the default for paper)")
    book.set_defaults(handler=_book)

    from hydrolib.experiments.registry import EXPERIMENTS  # the help lists what is registered, never a copy

    for command, helptext in (("train", "train one of the study's runs (or load it from the cache)"),
                              ("run-all", "train every run the book needs (every experiment, further seeds, the "
                                          "forecast-window variants, the data-scarcity sweeps)")):
        sub = commands.add_parser(command, parents=[debug], help=helptext)
        if command == "train":
            *first, last = EXPERIMENTS
            sub.add_argument("name", help=f"{', '.join(first)} or {last}")
        _add_run_settings(sub, alias_p=True)
        if command == "run-all":
            _add_jobs(sub, "runs trained")
        else:
            sub.set_defaults(jobs=None)
        sub.set_defaults(handler=_train)
    summary = commands.add_parser("summary", parents=[debug],
                                  help="key numbers of runs as JSON lines (trains what is not cached)")
    summary.add_argument("runs", nargs="+", metavar="NAME[:SEED]", help="e.g. mtl-diff mtl-diff:1")
    _add_run_settings(summary, alias_p=True)
    summary.set_defaults(handler=_summary)
    results = commands.add_parser("results", parents=[debug],
                                  help="compute every chapter's results from the runs (training what the store "
                                       "lacks); the paper profile's go to results/paper")
    results.add_argument("--only", nargs="*", default=[], help="compute only these results (e.g. claims)")
    _add_run_settings(results, alias_p=True)
    results.set_defaults(handler=_results)
    cache = commands.add_parser("cache", parents=[debug],
                                help="list the cached runs, prepared data and worlds; --prune the stale ones")
    cache.add_argument("--prune", action="store_true",
                       help="list what the current code and data no longer reach and delete it after asking (only "
                            "folders hydrolib wrote, which carry its .hydrolib marker)")
    cache.add_argument("--yes", action="store_true", help="with --prune: delete without asking")
    cache.set_defaults(handler=_cache)
    verify = commands.add_parser("verify", parents=[debug],
                                 help="re-hash a LandBench folder's files and report those that changed")
    verify.add_argument("root", help="the folder holding LandBench's resolution folders")
    verify.set_defaults(handler=_verify)
    notebooks = commands.add_parser("notebooks", parents=[debug],
                                    help="write notebooks/<chapter>.ipynb, the copies of the chapters that Binder and "
                                         "Colab launch, from notebooks/<chapter>.py")
    notebooks.add_argument("--check", action="store_true", help="only say which copies differ from their source")
    notebooks.set_defaults(handler=_notebooks)
    return parser


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"warning: {message}", file=sys.stderr if file is None else file, flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the command ``argv`` (default ``sys.argv[1:]``); returns the exit status: 0, 1 after
    an error (printed as ``error: …`` lines, with the traceback only under ``--debug``), 130
    when interrupted."""
    args = build_parser().parse_args(argv)
    configure_logging(getattr(args, "quiet", False))
    if getattr(args, "years", None) is not None:
        args.first_year, args.last_year = args.years
    from hydrolib.data.source import pin_cache_dir

    pin_cache_dir()  # a relative HYDROLIB_CACHE means this folder, also in workers and chapters elsewhere
    shown = warnings.showwarning
    if not args.debug:
        warnings.showwarning = _show_warning
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print("error: interrupted; what was complete is kept, run the command again to go on", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 -- every error a user meets is said plainly, once
        if args.debug:
            raise
        from hydrolib.system.errors import one_line

        for line in one_line(error).splitlines():
            print(f"error: {line}" if line.strip() else line, file=sys.stderr, flush=True)
        if not _expected(error):
            print(f"error: ({type(error).__name__}; run again with --debug to see where it happened)",
                  file=sys.stderr)
        return 1
    finally:
        warnings.showwarning = shown


def _expected(error: BaseException) -> bool:
    """Whether ``error`` is of a kind whose message is all a user needs: a bad setting, bad data,
    a missing or damaged file, a full disk, a failed build (``ValueError``, ``OSError`` and
    hydrolib's own errors); anything else may be a bug and gets a pointer to ``--debug``."""
    from hydrolib.book.chapters import BookBuildError
    from hydrolib.book.parameters import ParameterError
    from hydrolib.system.files import CorruptCacheError
    from hydrolib.system.locks import LockTimeout

    expected = (ValueError, OSError, CommandError, BookBuildError, ParameterError, CorruptCacheError, LockTimeout,
                FloatingPointError, MemoryError)
    if "hydrolib.experiments.schedule" in sys.modules:  # only where runs were trained side by side
        expected += (sys.modules["hydrolib.experiments.schedule"].RunsFailedError,)
    return isinstance(error, expected)
