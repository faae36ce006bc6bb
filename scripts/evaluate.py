#!/usr/bin/env python
"""`mxdl-evaluate` from a checkout: see mxdl/commands/evaluate.py (`python scripts/evaluate.py --help`)."""
from mxdl.commands.evaluate import main

if __name__ == "__main__":
    raise SystemExit(main())
