#!/usr/bin/env python
"""`mxdl-mnist` from a checkout: see mxdl/commands/mnist.py (`python scripts/mnist.py --help`)."""
from mxdl.commands.mnist import main

if __name__ == "__main__":
    raise SystemExit(main())
