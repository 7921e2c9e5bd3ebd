"""The generic web kit: API base, errors, parsers, schema, pagination, JSON limits, CSP, stateless requests, forms."""
