#!/usr/bin/env python
"""`mxdl-batch-sizes` from a checkout: see mxdl/commands/batch_sizes.py (`python scripts/batch_sizes.py --help`)."""
from mxdl.commands.batch_sizes import main

if __name__ == "__main__":
    raise SystemExit(main())
