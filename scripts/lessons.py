#!/usr/bin/env python
"""`mxdl-lessons` from a checkout: see mxdl/commands/lessons.py (`python scripts/lessons.py --help`)."""
from mxdl.commands.lessons import main

if __name__ == "__main__":
    raise SystemExit(main())
