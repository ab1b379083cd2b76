"""One module per kind of task: probes (run on both sides), planning and evaluation."""

from __future__ import annotations

from . import function, init, module, optimizer, scheduler

KINDS = {"function": function, "loss": function, "module": module, "optimizer": optimizer,
         "scheduler": scheduler, "init": init}
