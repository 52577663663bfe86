"""The GraphQL schema: a thin typed skin over `resolvers/`. Never imports sqlalchemy."""
