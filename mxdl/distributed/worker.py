"""The worker's side of a launched job: :func:`fail_fast`, so that a failing worker ends at once.

A dist worker that fails alone otherwise hangs in its kvstore's destructor, and the launcher never
learns that it failed.  Also importable as ``mxdl.distributed.launch.fail_fast``.  Only the standard
library and :mod:`mxdl.errors` are imported here.
"""
import contextlib
import os
import sys
import traceback

from ..errors import MxdlError


@contextlib.contextmanager
def fail_fast():
    """In a dist-kvstore worker, end the process at once when the block fails, so the launcher sees it.

    Python's normal exit destroys the kvstore, and a dist worker's kvstore first waits in a barrier for
    every other worker (MXNet 1.9.1 ``KVStoreDist::~KVStoreDist``); the other workers wait for its
    gradients.  A worker that fails alone therefore hangs forever instead of exiting, and so does
    one that merely returns from the function holding its kvstore.  Inside this block an exception,
    or ``sys.exit(code)`` with a non-zero code, is reported (traceback, or ``error: ...`` for an
    :class:`MxdlError`) and ends the process with ``os._exit`` while the kvstore is still alive, so
    its exit code reaches the launcher, which stops the rest.  Outside a worker (no
    ``DMLC_ROLE=worker``) it changes nothing.  Wrap the code that holds the kvstore or the Trainer::

        with launch.fail_fast():
            history = fit(net, loss_fn, train, kvstore="dist_sync", ...)
    """
    if os.environ.get("DMLC_ROLE") != "worker":
        yield
        return
    try:
        yield
    except SystemExit as exit_:
        if not exit_.code:
            raise      # success: the normal exit runs the kvstore's last barrier; rank 0 stops the servers
        if isinstance(exit_.code, int):
            code = exit_.code
        else:
            print(exit_.code, file=sys.stderr)
            code = 1
        _exit_now(code)
    except MxdlError as err:
        print(f"error: {err}", file=sys.stderr)
        _exit_now(1)
    except KeyboardInterrupt:
        _exit_now(130)
    except BaseException:  # whatever it was, it must not reach the kvstore's destructor
        traceback.print_exc()
        _exit_now(1)


def _exit_now(code):
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
