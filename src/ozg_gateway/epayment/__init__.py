"""ePayment: fees paid online through XBezahldienste providers (epay21, pmPayment, ePayBL facade).

Money is integer euro cents everywhere inside the gateway; ``money`` converts to and from the
providers' decimal euros at the edge, never through float.
"""
