"""Move this Python process's wall clock, as setting the machine's clock would.

Imported at start-up by every Python process whose ``PYTHONPATH`` holds this folder (see
``infra/test-on-date.sh``): the test workers, the local stack they start, the demo. With
``QUITTANCE_WALL_CLOCK_OFFSET`` (seconds) set, time-machine shifts ``time.time``,
``datetime.now`` and the like by that offset and lets time flow; ``time.monotonic`` is left
alone, as a real clock change leaves it. The offset, not a date, is what every process is
given, so that processes started minutes apart still agree on the time.

(libfaketime would do this below Python, but its 0.9.10 hangs Python's timed waits on
CLOCK_MONOTONIC, and with the monotonic clock left real it refuses time.sleep.)"""

from __future__ import annotations

import os
import time

_offset = os.environ.get("QUITTANCE_WALL_CLOCK_OFFSET")
if _offset:
    import time_machine

    time_machine.travel(time.time() + float(_offset), tick=True).start()
