"""HTTP plumbing every route shares: credentials, error shapes, middleware and abuse limits."""
