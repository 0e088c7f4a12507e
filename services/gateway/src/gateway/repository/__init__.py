"""All of the gateway's SQL, grouped by table family; functions take a connection so the
orchestrator can compose them inside one transaction."""
