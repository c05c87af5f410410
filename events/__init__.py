"""The seam between the apps and the real-time layer: how a change announces itself.

Apps call `events.publish` (through their signals.py) inside the transaction that makes
the change; at commit the event is written to the event log in that same transaction
(room, per-room `eventId`, type, payload, audience) and, once committed, handed to the
delivery the real-time layer registered (`events.delivery`). Nothing here knows rooms'
rules or sockets: realtime registers both at startup.
"""
