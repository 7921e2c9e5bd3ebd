"""Server-rendered pages: dashboard, organizations, spaces."""
