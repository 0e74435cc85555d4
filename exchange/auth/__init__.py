"""Who is calling: credentials in, a verified Caller out."""
