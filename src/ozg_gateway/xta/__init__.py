"""XTA 2 Version 3 (webservice 2.1.1): SOAP 1.2 with WS-Addressing to an XTA server.

So far the pure parts: party identifiers, the Author and MessageMetaData headers (valid against
the OSCI/XTA XSDs in the tests), SOAP 1.2 envelopes with the WS-Addressing headers the policy
requires, the operation actions, and the fault table. Client, MTOM streaming, the delivery
connector, the inbound mailbox and the simulator build on them.
"""
