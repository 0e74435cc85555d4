"""Identity and access: OAuth2 tokens, federation, mutual TLS, passkeys and sessions."""
