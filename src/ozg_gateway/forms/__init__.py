"""The offers' form models: fields, rules and German labels, one package per offer.

The one source for the API's JSON Schema, the fillable PDF and validation. Pure: no I/O.
"""

# The registry first: it defines what the offer packages import, then imports them.
from ozg_gateway.forms import registry as registry
