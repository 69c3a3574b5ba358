from skyfence.cli import main

raise SystemExit(main())
