"""Identity and authorization: signing keys, tokens, the Casbin enforcer, privilege checks."""
