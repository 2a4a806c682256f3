"""What ops watch: /metrics (Prometheus), JSON log lines, and the ids that tie them together."""
