#!/usr/bin/env python
"""`mxdl-toy` from a checkout: see mxdl/commands/toy.py (`python scripts/toy.py --help`)."""
from mxdl.commands.toy import main

if __name__ == "__main__":
    raise SystemExit(main())
