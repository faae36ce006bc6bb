#!/usr/bin/env python
"""`mxdl-predict` from a checkout: see mxdl/commands/predict.py (`python scripts/predict.py --help`)."""
from mxdl.commands.predict import main

if __name__ == "__main__":
    raise SystemExit(main())
