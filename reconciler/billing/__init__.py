"""Billing (issue 19): the history `apply` records in the ledger, and charges computed from it."""
