"""The PayPal side of billing: which account bills a tenant, and the calls the use cases make there."""
