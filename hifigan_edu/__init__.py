"""hifigan-edu: the package the course's notebooks stand on (``docs/course.md`` maps its modules to them).

Importing it turns off ONNX Runtime's telemetry (``ORT_DISABLE_TELEMETRY=1``) before anything can
load ``onnxruntime``: DNSMOS (``hifigan_edu.evaluate``, notebooks 07 and 08) and the Kokoro TTS
(``hifigan_edu.data.kokoro``) run on it, and its Linux wheels otherwise try to send usage events
to Microsoft. The course never uses the network (``tests/test_offline.py`` checks it).

It also lets glibc keep freed memory for the next tensor (``runtime.keep_freed_memory``): on a
CPU, large tensors otherwise page-fault afresh at every training step.
"""

import os

os.environ["ORT_DISABLE_TELEMETRY"] = "1"  # read once, when onnxruntime starts; worker processes inherit it

from hifigan_edu import runtime  # noqa: E402  (after the variable: it imports torch)

runtime.keep_freed_memory()  # forked loader workers inherit it too
