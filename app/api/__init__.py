"""The JSON HTTP API of ../shared/CONTRACT.md and its schemas: thin routes over the shell."""
