"""`ecomarket loadtest`: drive the load balancer like real clients, then check the ledger."""
