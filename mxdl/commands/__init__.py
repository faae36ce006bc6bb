"""The command lines (``mxdl-mnist``, ``mxdl-toy``, ``mxdl-batch-sizes``, ``mxdl-predict``): each
module's ``main(argv=None)`` parses flags, builds a demo's config and runs it."""
