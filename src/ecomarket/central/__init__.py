"""The central service: catalogue, stock of every branch, sales ledger, customers."""
