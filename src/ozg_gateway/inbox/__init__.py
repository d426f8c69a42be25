"""The pull inbox: back offices list, lease, acknowledge or give back cases themselves."""
