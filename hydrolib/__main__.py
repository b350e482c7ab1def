from hydrolib.cli import main

raise SystemExit(main())
