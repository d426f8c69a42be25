"""eID: identification with the German ID card through a BSI TR-03130 eID-Server.

This package holds the pure parts so far: the CommunityID of a municipality, UseOperations from
an offer's policy (data minimisation), useID/getResult/getServerInfo request bodies (validated
against the 2.0.2 XSD in the tests), lenient parsing of responses by local name (2.0.2 to 2.4),
result codes, and the TC Token. Signed SOAP, the portal flow and the simulator build on them.
"""
