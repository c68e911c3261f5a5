"""The PostgreSQL catalog: schema, keyword search, quote index, ingest jobs, login throttle."""
