from hydrolib.cli import main

raise SystemExit(main(["synthetic", *__import__("sys").argv[1:]]))
