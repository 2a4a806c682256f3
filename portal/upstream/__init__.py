"""The only code that talks to the carrier. One module per API; `http` sends and audits."""
