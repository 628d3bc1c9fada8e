from dcfre.cli import main

raise SystemExit(main())
