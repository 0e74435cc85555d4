"""Live push: a resumable server-sent-events change feed and signed webhooks, filtered by the TAXII ACL."""
