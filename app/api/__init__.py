"""The JSON HTTP API (the v1 contract, and what groups and downloads add) and its schemas: thin routes over the shell."""
