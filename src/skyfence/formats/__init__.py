"""Wire formats the site's own systems speak, one module (or sub-package) per format.

Decoders are pure functions from bytes to typed results (frozen dataclasses or
msgspec structs) that raise a :class:`~skyfence.formats.errors.DecodeError`
naming what was wrong; adapters turn decoded results into measurements.jsonl
objects (../DESIGN.md) so every format feeds the engine the way the simulator
does. Rejected inputs are counted by reason (:class:`~skyfence.formats.errors.Rejections`),
never raised out of a live source.
"""
