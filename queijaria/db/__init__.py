"""Where the PostgreSQL server is (connection) and the embedded server the project starts itself (embedded)."""
