"""The TAXII 2.1 HTTP API: thin routers over the services."""
