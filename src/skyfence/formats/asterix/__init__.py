"""ASTERIX (EUROCONTROL surveillance data exchange): radar plots in, system tracks out.

Decoded: CAT048 monoradar target reports (ed. 1.32), CAT034 service messages (ed. 1.29),
CAT015 INCS target reports (ed. 1.2), CAT062 system tracks (ed. 1.21); encoded: CAT062
for skyfence's own tracks. One module per category (the spec's item table in its
docstring), the framing and item sizing in :mod:`.block`, the live decoder in
:mod:`.decoder`, captures in :mod:`.capture`, measurements in :mod:`.measurements`,
track output in :mod:`.output`, sockets in :mod:`.udp`.
Site engineer's guide: docs/formats/asterix.md.
"""

from skyfence.formats.asterix.cat015 import Cat015Report
from skyfence.formats.asterix.cat034 import Cat034Message
from skyfence.formats.asterix.cat048 import Cat048Report
from skyfence.formats.asterix.cat062 import Cat062Track
from skyfence.formats.asterix.decoder import (
    AsterixDecoder,
    AsterixRecord,
    Stamped,
    decode_block,
    decode_datagram,
)
from skyfence.formats.asterix.measurements import ingest_file, to_measurements

__all__ = [
    "AsterixDecoder",
    "AsterixRecord",
    "Cat015Report",
    "Cat034Message",
    "Cat048Report",
    "Cat062Track",
    "Stamped",
    "decode_block",
    "decode_datagram",
    "ingest_file",
    "to_measurements",
]
