"""SAPIENT (BSI Flex 335 v2.0): skyfence as a fusion node for sensor nodes
(server.py) and as a child of a parent fusion node (client.py).

Bindings generated from the published v2.0 .proto files (proto/SOURCE.md);
framing.py (4-byte little-endian length prefix), validate.py (the protos'
own mandatory/UUID/ULID rules), convert.py (messages ↔ skyfence records),
ulid.py. docs/formats/sapient.md describes it all.
"""
