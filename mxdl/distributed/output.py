"""The launcher's output: every child's lines forwarded whole, each with its ``[worker 0] ``,
``[server 0] `` or ``[scheduler] `` prefix, and the launcher's own lines (``mxdl.launch: ...``) on stderr.

A carriage return ends a line too, so a progress bar cannot overwrite the prefix.  With ps-lite's
verbosity left at 0 the scheduler still runs with ``PS_VERBOSE=1`` (so that it reports when every node
has connected), and that chatter is hidden.  Only the standard library is imported here.
"""
import re
import sys
import threading

_LINE_BREAK = re.compile(rb"\r\n|\r|\n")

# ps-lite prints this at verbosity 1 once every server and worker has registered with the scheduler.
_READY = re.compile(r"the scheduler is connected to \d+ workers and \d+ servers")
# The rest of what PS_VERBOSE=1 makes the scheduler print: hidden unless the user asked for it.
_CHATTER = re.compile(r"ps-lite/src/\S+:\d+: (Bind to |assign rank=|Barrier count for |H\[\d+\] is stopp)")


def split_lines(buffer):
    """``bytes`` -> (the complete lines in it, the unfinished rest).

    ``\\n``, ``\\r\\n`` and a lone ``\\r`` each end a line: a progress bar redraws itself with ``\\r``,
    and forwarded as is it would overwrite the prefix.  Blank lines (the empty piece between a bar's
    ``\\r`` and the next, or a line of spaces that clears a bar) are dropped.
    """
    *lines, rest = _LINE_BREAK.split(buffer)    # (a \r\n split over two chunks leaves a blank: dropped)
    return [line for line in lines if line.strip()], rest


def output_lines(chunks):
    """Decoded, non-blank lines from an iterable of byte chunks (see :func:`split_lines`)."""
    rest = b""
    for chunk in chunks:
        lines, rest = split_lines(rest + chunk)
        yield from (line.decode("utf-8", "replace") for line in lines)
    if rest.strip():
        yield rest.decode("utf-8", "replace")


class Output:
    """Forwards the children's lines with their prefix, one whole line at a time."""

    def __init__(self, quiet_scheduler):
        self.lock = threading.Lock()
        self.ready = threading.Event()      # set when the scheduler reports every node connected
        self.bind_failed = threading.Event()    # set when the scheduler could not listen on its port
        self.quiet_scheduler = quiet_scheduler

    def write(self, text, stream=None):
        with self.lock:
            stream = stream or sys.stdout
            stream.write(text + "\n")
            stream.flush()

    def say(self, message):
        self.write(f"mxdl.launch: {message}", sys.stderr)

    def forward(self, node, pipe):
        prefix = f"[{node.name}] "
        for line in output_lines(iter(lambda: pipe.read1(65536), b"")):
            if node.role == "scheduler":
                if "bind failed" in line:
                    self.bind_failed.set()
                if _READY.search(line):
                    self.ready.set()
                    if self.quiet_scheduler:
                        continue
                if self.quiet_scheduler and _CHATTER.search(line):
                    continue
            self.write(prefix + line)
